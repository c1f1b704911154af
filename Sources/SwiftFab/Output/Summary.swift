import Foundation

/// The per-host table printed at the end of a run.
public enum Summary {
    public static func table(_ reports: [HostReport], style: Style) -> String {
        let hostWidth = max(4, reports.map(\.host.count).max() ?? 0)
        var lines = ["HOST".padding(toLength: hostWidth, withPad: " ", startingAt: 0) + "  RESULT"]
        for report in reports {
            let host = report.host.padding(toLength: hostWidth, withPad: " ", startingAt: 0)
            let time = Format.seconds(report.duration)
            switch report.status {
            case .ok:
                lines.append("\(host)  " + style.paint("ok", .green) + " (\(report.result?.summary ?? "done"), \(time))")
            case .failed(let why):
                lines.append("\(host)  " + style.paint("FAILED", .red) + " (\(why), \(time))")
            case .error(let error):
                var text = error
                text.host = nil
                lines.append("\(host)  " + style.paint("ERROR", .red, bold: true) + " " + text.description.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: hostWidth + 2)))
            }
        }
        let failed = reports.filter { $0.status != .ok }.count
        lines.append(failed == 0 ? "\(reports.count) host\(reports.count == 1 ? "" : "s") ok" : "\(failed) of \(reports.count) host\(reports.count == 1 ? "" : "s") failed")
        return lines.joined(separator: "\n") + "\n"
    }
}
