import Foundation
import Testing
@testable import SwiftFab

/// The login shell's PID report is found among whatever a login shell prints
/// before it (a noisy .bashrc), which comes out as output, byte for byte.
@Suite struct PIDReportTests {
    static let before = [
        "", "welcome\n", "swiftfab-pi\n", "swiftfab-pid:\n", "swiftfab-pid:12x\n", "swiftfab-pid:7 and more\n",
        String(repeating: "x", count: 5000) + "\n", "swiftfab-pid:" + String(repeating: "9", count: 40) + "\n", "no line end, then one\n",
    ]

    @Test func theReportIsFoundWhateverComesBeforeItAndHowItIsCut() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let noise = (0..<Int.random(in: 0...4, using: &generator)).map { _ in Self.before.randomElement(using: &generator)! }.joined()
            let ending = Bool.random(using: &generator) ? "\r\n" : "\n"
            let after = "command output swiftfab-pid:5\nmore\n"
            let whole = Array((noise + "swiftfab-pid:4242" + ending + after).utf8)
            var report = PIDReport()
            var output: [UInt8] = []
            var index = 0
            while index < whole.count {
                let size = Int.random(in: 1...64, using: &generator)
                let chunk = Array(whole[index..<min(whole.count, index + size)])
                output += report.pid == nil ? report.take(chunk) : chunk
                index += size
            }
            #expect(report.pid == 4242, "\(noise.debugDescription)")
            #expect(output == Array((noise + after).utf8), "\(noise.debugDescription)")
        }
    }

    @Test func whatCannotBeTheReportIsHandedBackAtOnce() {
        var report = PIDReport()
        let flood = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        // A megabyte without a line end: none of it is held back.
        #expect(report.take(flood) == flood)
        #expect(report.take(Array("tail\nswiftfab-pid:12".utf8)) == Array("tail\n".utf8))
        #expect(report.pid == nil)
        #expect(report.take(Array("3\nafter".utf8)) == Array("after".utf8))
        #expect(report.pid == 123)
    }
}
