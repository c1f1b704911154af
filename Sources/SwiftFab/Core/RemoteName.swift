/// Names a server lists are data, not paths: a download joins them onto a
/// local directory, so only a plain single component may pass.
enum RemoteName {
    /// True for a name that stays inside the directory it is joined to:
    /// not empty, not "." or "..", no "/" and no NUL (which would cut the
    /// name short when handed to the C library).
    static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
    }

    /// The name quoted for a message, with control and invisible characters
    /// escaped, so a hostile name cannot rewrite the terminal line it is shown on.
    static func quoted(_ name: String) -> String {
        "\"" + escaped(name, quote: true) + "\""
    }

    /// The same escaping without the quotes, for names in a list.
    static func escaped(_ name: String, quote: Bool = false) -> String {
        VisibleText.escaped(name, quote: quote)
    }
}
