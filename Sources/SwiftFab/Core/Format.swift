import Foundation

/// Small formatting helpers shared by output and errors.
public enum Format {
    public static func seconds(_ value: Double) -> String {
        if value < 1 { return String(format: "%.0fms", value * 1000) }
        if value < 60 { return String(format: "%.2fs", value) }
        return String(format: "%dm%02ds", Int(value) / 60, Int(value) % 60)
    }

    /// `2`, `0.5`: a number without a needless `.0`.
    public static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    public static func bytes(_ value: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", amount, units[unit])
    }
}

/// Monotonic time in seconds, for durations and deadlines.
public func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
