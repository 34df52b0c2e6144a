import Logging
import PostgresNIO

extension PostgresConnection {
    /// Serialises, until this transaction ends, every transaction that replaces the input named
    /// `name` (a delete-then-insert of a calibration set or the housekeeping dictionary): two
    /// concurrent loads of the same input then replace it one after the other instead of one
    /// failing on the other's insert. Call it first in the transaction.
    public func lockForReplacing(_ name: String, logger: Logger) async throws {
        try await query("SELECT pg_advisory_xact_lock(hashtextextended(\(name), 0))", logger: logger)
    }
}
