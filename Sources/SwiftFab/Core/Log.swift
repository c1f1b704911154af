import Foundation
internal import Logging

/// swiftfab's diagnostic log: silent unless SWIFTFAB_LOG names a level
/// (trace, debug, info, ...). Secrets never reach it: they are `Secret`s.
enum Log {
    static let ssh: Logger = {
        var logger = Logger(label: "swiftfab.ssh") { label in StreamLogHandler.standardError(label: label) }
        let wanted = ProcessInfo.processInfo.environment["SWIFTFAB_LOG"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        logger.logLevel = wanted ?? .critical
        return logger
    }()
}
