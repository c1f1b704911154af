import Foundation
import SwiftFab

/// This machine's side of downloads and uploads: checksums and prompts.
enum LocalFiles {
    /// The file's sha256, hex, as the server's `sha256sum` prints it.
    static func sha256(_ path: String) throws -> String {
        try FileDigest.sha256(path)
    }

    /// `<sha256>  <name>`, as sha256sum writes it (so `sha256sum -c` checks it).
    static func writeChecksum(_ sum: String, for path: String) throws {
        let name = URL(fileURLWithPath: path).lastPathComponent
        try "\(sum)  \(name)\n".write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
    }

    /// The checksum recorded beside a local file, if there is one.
    static func recordedChecksum(for path: String) -> String? {
        guard let text = try? String(contentsOfFile: path + ".sha256", encoding: .utf8) else { return nil }
        let sum = String(text.prefix(64))
        return sum.count == 64 ? sum : nil
    }

    static func requireTerminal(_ prompter: Prompter) throws {
        guard prompter.canAnswer() else {
            throw SwiftFabError(.invalidInput, "restore replaces the database and needs a confirmation, but there is no terminal to ask on",
                                hint: "run it from a terminal, or pass --yes to confirm up front (scripts)")
        }
    }

    /// A yes/no question (default yes); nobody to answer: no.
    static func ask(_ question: String, _ prompter: Prompter) -> Bool {
        guard prompter.canAnswer() else { return false }
        let answer = prompter.ask("\(question) [Y/n] ")?.trimmingCharacters(in: .whitespaces).lowercased() ?? "n"
        return answer.isEmpty || answer.hasPrefix("y")
    }

    /// Asks; only a typed "yes" goes on. Without a terminal (scripts, CI)
    /// nobody can answer, so `--yes` must say it up front.
    static func confirm(_ question: String, _ prompter: Prompter) throws {
        try requireTerminal(prompter)
        guard prompter.ask("\(question) Type yes to go on: ")?.trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
            throw SwiftFabError(.invalidInput, "not confirmed: nothing was restored")
        }
    }
}
