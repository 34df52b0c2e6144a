/// Why an ingest could not be done at all (bad records inside a pass are anomalies, not errors).
public struct IngestError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is (the server maps it to an HTTP status in one place).
    public enum Code: String, Sendable, CaseIterable {
        /// The input file could not be read.
        case unreadable
        /// An argument of the request is out of its range or form.
        case invalidArgument = "invalid_argument"
        /// The archive refused to record the pass (a database failure).
        case notRecorded = "not_recorded"
        /// An internal consistency check failed (a bug: nothing was stored).
        case inconsistent
    }

    public let code: Code
    public let file: String
    public let message: String

    public init(_ code: Code, file: String, _ message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
