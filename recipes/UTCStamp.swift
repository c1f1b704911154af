import Foundation

/// `20261122T011500Z`: a moment in UTC, to the second, that sorts as text in
/// time order. Release names and backup names carry one.
enum UTCStamp {
    /// What a stamp looks like, as a regular expression.
    static let pattern = #"\d{8}T\d{6}Z"#

    static func string(from date: Date) -> String { formatter.string(from: date) }

    static func date(from text: String) -> Date? { formatter.date(from: text) }

    private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter
    }()
}
