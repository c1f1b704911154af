/// Text that came from elsewhere (a server's file names, a history file any
/// holder of the deploy login can write) made safe to show on a terminal:
/// control characters (C0, DEL, C1) and invisible ones (format characters
/// such as bidi overrides and zero-width spaces, line separators, private-use
/// and unassigned scalars) are written as escapes (`\n`, `\t`, `\u{1B}`,
/// `\u{202E}`), so such text cannot move the cursor, rewrite or clear what
/// is on screen, or reorder the text shown after it.
///
/// Works on Unicode scalars: a combining mark after an escape character is
/// its own scalar, never hidden inside a `Character`.
enum VisibleText {
    /// `text` with every control and invisible scalar escaped, and the
    /// backslash too (so an escape shown is never a backslash the text held);
    /// `quote` also escapes `"`, for text shown between quotes.
    static func escaped(_ text: String, quote: Bool = false) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": shown += "\\\\"
            case "\"" where quote: shown += "\\\""
            case "\0": shown += "\\0"
            case "\n": shown += "\\n"
            case "\r": shown += "\\r"
            case "\t": shown += "\\t"
            default:
                if isInvisible(scalar) {
                    shown += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    shown.unicodeScalars.append(scalar)
                }
            }
        }
        return shown
    }

    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: true
        default: false
        }
    }
}
