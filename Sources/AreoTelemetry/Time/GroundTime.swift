import Foundation

/// Ground time `t` (ICD §1): seconds since 2000-01-01T12:00:00Z, 86 400 s a day, no leap seconds.
public enum GroundTime {
    /// Unix time of t = 0.
    public static let unixEpochOffset: Double = 946_728_000

    public static func date(t: Double) -> Date { Date(timeIntervalSince1970: t + unixEpochOffset) }
    public static func t(date: Date) -> Double { date.timeIntervalSince1970 - unixEpochOffset }

    /// ISO 8601 UTC with milliseconds, e.g. `2026-05-01T12:00:00.250Z`.
    public static func iso8601(t: Double) -> String { iso8601(date(t: t)) }

    public static func iso8601(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true).timeSeparator(.colon).dateSeparator(.dash))
    }

    /// Parses ISO 8601 with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
