import AreoStore
import AreoTelemetry
import Foundation
import Logging
import PostgresNIO

/// The housekeeping dictionary in force (ICD §5), stored in the database.
public struct HousekeepingRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Replaces the dictionary with the one in `data` (hk-dictionary.json).
    /// - Throws: ``TelemetryError`` naming the file if it does not decode.
    public func load(_ data: Data, file: String) async throws -> HousekeepingDictionary {
        let dictionary = try HousekeepingDictionary.parse(data, file: file)
        let logger = self.logger
        try await database.client.inTransaction(logger: logger) { connection in
            try await connection.lockForReplacing("housekeeping_dictionary", logger: logger)
            try await connection.query("DELETE FROM housekeeping_channels", logger: logger)
            for c in dictionary.channels {
                try await connection.query(
                    """
                    INSERT INTO housekeeping_channels (channel_id, name, unit, coefficients, yellow, red, dictionary_id)
                    VALUES (\(Int(c.id)), \(c.name), \(c.unit), \(c.coefficients), \(c.yellow), \(c.red), \(dictionary.dictionaryID))
                    """, logger: logger)
            }
        }
        return dictionary
    }

    /// The stored dictionary, or nil before one is loaded.
    public func dictionary() async throws -> HousekeepingDictionary? {
        let rows = try await database.client.query(
            "SELECT channel_id, name, unit, coefficients, yellow, red, dictionary_id FROM housekeeping_channels ORDER BY channel_id",
            logger: logger)
        var channels: [HousekeepingDictionary.Channel] = []
        var id = ""
        for try await (cid, name, unit, coefficients, yellow, red, dictionaryID) in rows.decode((Int, String, String, [Double], [Double], [Double], String).self) {
            channels.append(.init(id: UInt16(cid), name: name, unit: unit, coefficients: coefficients, yellow: yellow, red: red))
            id = dictionaryID
        }
        return channels.isEmpty ? nil : HousekeepingDictionary(dictionaryID: id, channels: channels)
    }
}
