/// How a task ended when "done" is not the whole answer: doctor's warnings
/// or failures, the changes `provision --check` found. The task's last line
/// says `text` (✓ at exit code 0, ! for a warning, ✗ for a failure), and a
/// run whose hosts all succeeded exits with at least `exitCode`.
public struct Verdict: Sendable, Equatable {
    public var text: String
    public var exitCode: Int32
    public var isFailure: Bool

    public init(_ text: String, exitCode: Int32, isFailure: Bool = false) {
        self.text = text
        self.exitCode = exitCode
        self.isFailure = isFailure
    }

    /// All is as wanted: said, exit code 0.
    public static func fine(_ text: String) -> Verdict { Verdict(text, exitCode: 0) }
    /// Something to look at, not broken (doctor's warnings, changes pending).
    public static func warning(_ text: String, exitCode: Int32) -> Verdict { Verdict(text, exitCode: exitCode) }
    public static func failure(_ text: String, exitCode: Int32) -> Verdict { Verdict(text, exitCode: exitCode, isFailure: true) }
}
