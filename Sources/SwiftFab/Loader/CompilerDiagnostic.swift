import Foundation

/// One error (or warning) of the compiler's plain style,
/// `FILE:LINE:COLUMN: error: MESSAGE`, with its notes and every line it
/// printed (the source excerpt, the caret, the suggested fixes).
struct CompilerDiagnostic: Equatable {
    struct Note: Equatable {
        var file: String
        var message: String
    }

    var file: String
    var line: Int
    var column: Int
    var severity: String
    var message: String
    var notes: [Note] = []
    /// The lines as printed, notes and excerpts included.
    var lines: [String] = []

    var location: String { "\(file):\(line):\(column)" }

    /// Every message's text and its notes' (to look for words in any of them).
    var allText: String { ([message] + notes.map(\.message)).joined(separator: "\n") }

    /// The compiler's output cut into diagnostics; lines before the first
    /// one (a driver's or the linker's complaint) come back apart.
    static func parse(_ output: String) -> (diagnostics: [CompilerDiagnostic], loose: [String]) {
        var diagnostics: [CompilerDiagnostic] = []
        var loose: [String] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let header = Header(line), header.severity != "note" {
                diagnostics.append(CompilerDiagnostic(file: header.file, line: header.line, column: header.column,
                                                      severity: header.severity, message: header.message, lines: [line]))
            } else if diagnostics.isEmpty {
                if !line.isEmpty { loose.append(line) }
            } else {
                if let header = Header(line) { diagnostics[diagnostics.count - 1].notes.append(Note(file: header.file, message: header.message)) }
                if !line.isEmpty { diagnostics[diagnostics.count - 1].lines.append(line) }
            }
        }
        return (diagnostics, loose)
    }

    /// `FILE:LINE:COLUMN: SEVERITY: MESSAGE`, read from the right: the file's
    /// name may hold colons, the numbers may not.
    private struct Header {
        var file: String, line: Int, column: Int, severity: String, message: String

        init?(_ text: String) {
            for severity in ["error", "warning", "note", "remark"] {
                guard let marker = text.range(of: ": \(severity): ") else { continue }
                let place = text[..<marker.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
                guard place.count >= 3, let line = Int(place[place.count - 2]), let column = Int(place[place.count - 1]) else { continue }
                self.file = place.dropLast(2).joined(separator: ":")
                self.line = line
                self.column = column
                self.severity = severity
                self.message = String(text[marker.upperBound...]).trimmingCharacters(in: .whitespaces)
                return
            }
            return nil
        }
    }
}
