import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Questions to the person running swiftfab, as a service of the run
/// (`RunContext.prompter`): a task asks here, never the terminal itself,
/// so a test or a tool can answer in the person's place.
public struct Prompter: Sendable {
    /// Whether anyone can answer (a person at a terminal on standard input).
    public let canAnswer: @Sendable () -> Bool
    /// Shows `question` and returns the line typed; nil when nobody answers.
    public let ask: @Sendable (String) -> String?

    public init(canAnswer: @escaping @Sendable () -> Bool, ask: @escaping @Sendable (String) -> String?) {
        self.canAnswer = canAnswer
        self.ask = ask
    }

    /// The terminal: the question on standard error, the answer a line of
    /// standard input; a signal while it waits exits at once (`Interrupt.prompting`).
    public static let terminal = Prompter(canAnswer: { isatty(STDIN_FILENO) == 1 }, ask: { question in
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        StandardStreams.write(question, to: .stderr)
        return Interrupt.prompting { readLine() }
    })

    /// Gives `answers` in turn, then nothing (tests, tools that drive swiftfab).
    public static func answering(_ answers: [String]) -> Prompter {
        let queue = AnswerQueue(answers)
        return Prompter(canAnswer: { true }, ask: { _ in queue.next() })
    }

    /// Nobody: every question goes unanswered.
    public static let nobody = Prompter(canAnswer: { false }, ask: { _ in nil })
}

private final class AnswerQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String]
    init(_ answers: [String]) { self.answers = answers }
    func next() -> String? { lock.withLock { answers.isEmpty ? nil : answers.removeFirst() } }
}
