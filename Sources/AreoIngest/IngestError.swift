/// Why an ingest could not be done at all (bad records inside a pass are anomalies, not errors).
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let message: String

    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
