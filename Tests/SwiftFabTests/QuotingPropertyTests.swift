import Foundation
import Testing
@testable import SwiftFab

/// Quoting and redaction hold for any text, not just the examples we
/// thought of: random strings go through real shells and must come back
/// byte for byte; secrets must never survive redaction.
@Suite struct QuotingPropertyTests {
    /// An apostrophe followed by a combining mark is one `Character` but
    /// still the shell's quote byte: the payload once ran `echo INJECTED`.
    static let payloads = [
        "x'\u{301}; echo INJECTED; '",
        "x'\u{20DD}; echo INJECTED; '",
        "x'\u{FE0F}; echo INJECTED; '",
        "'\u{301}$(echo INJECTED)'\u{301}",
        "\u{301}'`echo INJECTED`'",
        "a'\u{200D}'; echo INJECTED #",
    ]

    static let shells = ["/bin/sh", "/bin/bash"]

    @Test(arguments: shells)
    func injectionPayloadsStayData(shell: String) throws {
        for payload in Self.payloads {
            let command = Command(shell: "echo Hello, \(payload)")
            let output = try Self.run(shell, try command.rendered())
            #expect(output == Array("Hello, \(payload)\n".utf8), "\(shell): \(command.display)")
            // The same through an environment value, a directory and sudo-style nesting.
            let nested = Command(shell: "printf %s \"$V\"").with(environment: ["V": payload]).within("/")
            #expect(try Self.run(shell, try nested.rendered()) == Array(payload.utf8))
        }
    }

    @Test func aCombiningMarkAfterTheApostropheIsStillEscaped() {
        #expect(Shell.quote("x'\u{301}") == "'x'\\''\u{301}'")
        #expect(Shell.quotePath("~/it'\u{301}s") == "~/'it'\\''\u{301}s'")
        // A safe-looking word with a combining mark is quoted: the mark is not a safe byte.
        #expect(Shell.quote("a\u{301}") == "'a\u{301}'")
        #expect(!Shell.isValidVariableName("A\u{301}") && Shell.isValidVariableName("_A1") && !Shell.isValidVariableName("1A"))
    }

    @Test func aValueWithANulByteIsRefusedNotTruncated() {
        #expect(throws: SwiftFabError.self) { try Command(shell: "echo \("a\u{0}b")").rendered() }
        #expect(throws: SwiftFabError.self) { try Command("true").with(environment: ["V": "a\u{0}b"]).rendered() }
    }

    /// 100,000 random words (combining marks, quotes, backslashes, newlines,
    /// control characters, astral and odd scalars) through sh and bash.
    @Test(arguments: shells)
    func randomWordsSurviveTheShell(shell: String) throws {
        var random = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["SWIFTFAB_PROPERTY_SEED"] ?? "") ?? 0x5EED_F00D)
        let batch = 1_000
        for round in 0..<100 {
            let words = (0..<batch).map { _ in random.word(maxLength: 24) }
            // printf '%s\0' prints each argument as given; NUL separates them (no word holds one).
            let script = "printf '%s\\0' " + words.map(Shell.quote).joined(separator: " ")
            let output = try Self.run(shell, script)
            let got = output.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { Array($0) }
            let want = words.map { Array($0.utf8) }
            if got != want {
                let index = Array(zip(got, want)).firstIndex { $0.0 != $0.1 } ?? min(got.count, want.count)
                let word = index < words.count ? words[index] : "?"
                Issue.record("\(shell), round \(round): \(Array(word.unicodeScalars).map { String($0.value, radix: 16) }) came back wrong")
                return
            }
        }
    }

    /// Each secret, wherever it sits and whatever follows it (a combining mark
    /// included), is replaced: splitting the result at the masks and joining
    /// with the secret gives the text back, and no piece holds the secret.
    /// (One line each: a secret of several lines is also hidden line by line, below.)
    @Test func randomSecretsNeverSurviveRedaction() {
        var random = SplitMix64(seed: 0xC0FFEE)
        let mask = "[secret]"
        for _ in 0..<100_000 {
            let secret = random.word(maxLength: 12, minLength: 1).withoutLineBreaks
            if secret.isEmpty { continue }
            var text = random.word(maxLength: 8)
            for _ in 0..<Int(random.next() % 3 + 1) {
                text += secret + (random.next() % 2 == 0 ? "\u{301}" : "") + random.word(maxLength: 8)
            }
            if text.utf8.contains(mask.utf8) || secret.utf8.contains(mask.utf8) { continue }
            let redacted = Array(Secret.redact(text, [Secret(secret)]).utf8)
            let pieces = redacted.split(separator: Array(mask.utf8), omittingEmptySubsequences: false)
            #expect(pieces.allSatisfy { !$0.contains(Array(secret.utf8)) }, "\(secret.unicodeScalars.map(\.value)) survives")
            #expect(Array(pieces.joined(separator: Array(secret.utf8))) == Array(text.utf8))
        }
    }

    /// Random secrets of several lines (`\n` or `\r\n`, lines with spaces
    /// around them, empty and short ones) printed among random text, the
    /// output cut into chunks at random points: no line an output event
    /// shows holds a line of the secret of `Redactor.minimumLength` bytes or
    /// more, outside the masks; nor does the text redacted whole.
    @Test func randomSecretsOfSeveralLinesNeverSurviveInAnyLine() {
        var random = SplitMix64(seed: 0x5EC2E75)
        let mask = Array("[secret]".utf8)
        for _ in 0..<20_000 {
            let lines = (0..<Int(random.next() % 4 + 2)).map { _ in
                String(repeating: " ", count: Int(random.next() % 3)) + random.word(maxLength: 10).withoutLineBreaks
            }
            let secret = lines.joined(separator: random.next() % 2 == 0 ? "\n" : "\r\n") + (random.next() % 3 == 0 ? "\n" : "")
            var text = random.word(maxLength: 8)
            for _ in 0..<Int(random.next() % 3 + 1) { text += secret + random.word(maxLength: 8) }
            if text.utf8.contains(mask) { continue }
            // Each line without the spaces and tabs around it: what must not show.
            let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            let needles = lines.map { Array(Array($0.utf8).drop(while: blank).reversed().drop(while: blank).reversed()) }
                .filter { $0.count >= Redactor.minimumLength }
            func survivor(_ shown: String) -> [UInt8]? {
                let pieces = Array(shown.utf8).split(separator: mask, omittingEmptySubsequences: false)
                return needles.first { needle in pieces.contains { $0.contains(needle) } }
            }

            let events = EventLog()
            let emitter = LineEmitter(host: "h", sink: events, secrets: [Secret(secret)], silent: false)
            var bytes = Data(text.utf8)[...]
            while !bytes.isEmpty {
                let size = Int(random.next() % 7 + 1)
                emitter.feed(OutputChunk(stream: .stdout, bytes: Data(bytes.prefix(size))))
                bytes = bytes.dropFirst(size)
            }
            emitter.finish()
            for case .output(_, _, let line, _) in events.all {
                if let leaked = survivor(line) {
                    Issue.record("\(String(decoding: leaked, as: UTF8.self).unicodeScalars.map(\.value)) survives in a line of \(secret.unicodeScalars.map(\.value))")
                    return
                }
            }
            #expect(survivor(Secret.redact(text, [Secret(secret)])) == nil, "\(secret.unicodeScalars.map(\.value))")
        }
    }

    @Test func redactionWorksOnBytesAndPrefersTheLongerSecret() {
        #expect(Secret.redact("pw=hunter2\u{301}!", [Secret("hunter2")]) == "pw=[secret]\u{301}!")
        #expect(Secret.redact("é", [Secret("e")]) == "é")   // precomposed: another scalar, nothing to hide
        #expect(Secret.redact("e\u{301}", [Secret("e")]) == "[secret]\u{301}")
        #expect(Secret.redact("token=abcdef", [Secret("abc"), Secret("abcdef")]) == "token=[secret]")
        #expect(Secret.redact("nothing here", [Secret("")]) == "nothing here")
    }

    /// Runs `script` with `shell -c`, returning its stdout bytes.
    static func run(_ shell: String, _ script: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell)
        process.arguments = ["-c", script]
        process.environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }
}

extension String {
    /// The text without `\n` and `\r` (a one-line secret).
    var withoutLineBreaks: String { String(String.UnicodeScalarView(unicodeScalars.filter { $0 != "\n" && $0 != "\r" })) }
}

/// A small seeded generator, so a failing case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Scalars a shell might trip on: quotes and shell syntax, control
    /// characters (no NUL), combining marks, joiners, variation selectors,
    /// replacement and non-characters, astral scalars, and plain letters.
    static let pools: [ClosedRange<UInt32>] = [
        0x27...0x27, 0x22...0x22, 0x5C...0x5C, 0x60...0x60, 0x24...0x24, 0x0A...0x0A,   // ' " \ ` $ newline
        0x01...0x1F, 0x7F...0x7F, 0x20...0x7E, 0x20...0x7E, 0x61...0x7A,               // controls, ASCII
        0x80...0x9F, 0xA0...0x2FF,                                                     // C1 controls, Latin
        0x300...0x36F, 0x20D0...0x20FF, 0xFE00...0xFE0F, 0x200B...0x200F,              // combining, selectors, joiners
        0xD7F0...0xD7FF, 0xE000...0xE0FF, 0xFFF9...0xFFFF, 0xFEFF...0xFEFF,            // around surrogates, private, specials
        0x1F300...0x1F6FF, 0xE0100...0xE01EF, 0x10FFF0...0x10FFFF,                     // emoji, astral selectors, the last plane
    ]

    mutating func scalar() -> Unicode.Scalar {
        let pool = Self.pools[Int(next() % UInt64(Self.pools.count))]
        let value = pool.lowerBound + UInt32(next() % UInt64(pool.count))
        return Unicode.Scalar(value) ?? "?"
    }

    mutating func word(maxLength: Int, minLength: Int = 0) -> String {
        let length = minLength + Int(next() % UInt64(maxLength - minLength + 1))
        var text = String.UnicodeScalarView()
        for _ in 0..<length { text.append(scalar()) }
        return String(text)
    }
}
