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
        try await database.client.query(
            """
            INSERT INTO housekeeping_derivation (id, dictionary_id, next_packet_id) VALUES (1, \(dictionary.dictionaryID), 0)
            ON CONFLICT (id) DO UPDATE SET dictionary_id = EXCLUDED.dictionary_id, next_packet_id = 0
            """, logger: logger)
        return dictionary
    }

    /// What a re-derivation did.
    public struct Rederivation: Sendable, Codable, Equatable {
        public var packets = 0
        public var samples = 0
        public var violations = 0
    }

    /// Derives the engineering value and the limit check of every stored housekeeping sample
    /// with the current dictionary (ICD §5), `batchSize` packets per transaction, from where the
    /// last run stopped (a dictionary load starts it over): values are rewritten, and each
    /// packet's yellow/red anomalies replaced by those the dictionary now finds. Without a
    /// dictionary nothing is done.
    @discardableResult
    public func rederive(batchSize: Int = 5_000) async throws -> Rederivation {
        var result = Rederivation()
        guard let dictionary = try await dictionary() else { return result }
        let logger = self.logger
        while true {
            var cursor: Int64 = 0
            for try await value in try await database.client.query(
                "SELECT next_packet_id FROM housekeeping_derivation WHERE id = 1", logger: logger).decode(Int64.self) { cursor = value }
            var samples: [(packet: Int, channel: Int, raw: Int, sclk: Double, ticks: Int64, sequence: Int, pass: Int?)] = []
            for try await row in try await database.client.query(
                """
                SELECT h.packet_id, h.channel_id, h.raw, h.sclk, p.sclk_coarse_raw, p.sclk_fine, p.sequence_count,
                       (SELECT min(r.pass_id) FROM receptions r WHERE r.packet_id = p.id)
                FROM housekeeping h JOIN packets p ON p.id = h.packet_id
                WHERE h.packet_id IN (SELECT DISTINCT packet_id FROM housekeeping WHERE packet_id >= \(cursor) ORDER BY 1 LIMIT \(max(1, batchSize)))
                ORDER BY h.packet_id, h.channel_id
                """, logger: logger
            ).decode((Int, Int, Int, Double, Int64, Int, Int, Int?).self) {
                samples.append((row.0, row.1, row.2, row.3, row.4 << 16 | Int64(row.5), row.6, row.7))
            }
            guard let last = samples.last?.packet else { break }
            var values: [String] = []
            var anomalies: [Anomaly] = []
            for s in samples {
                let channel = UInt16(exactly: s.channel).flatMap { dictionary.channel(id: $0) }
                let value = UInt16(exactly: s.raw).flatMap { raw in channel?.engineering(raw: raw) }
                values.append(value.map { "\($0)" } ?? "")
                if let channel, let value, let level = channel.limitLevel(of: value) {
                    let limits = level == .red ? channel.red : channel.yellow
                    var anomaly = Anomaly(
                        kind: level == .red ? .housekeepingRed : .housekeepingYellow, severity: level == .red ? .alarm : .warning, passID: s.pass,
                        evidence: [
                            "channel": channel.name, "value": String(value), "unit": channel.unit, "limits": "[\(limits[0]), \(limits[1])]",
                            "sclk": String(s.sclk), "dictionary": dictionary.dictionaryID,
                        ],
                        dedupKey: "hk:\(s.ticks):\(s.sequence):\(channel.id)")
                    anomaly.packetID = s.packet
                    anomalies.append(anomaly)
                }
            }
            let packets = Array(Set(samples.map(\.packet)))
            try await database.client.inTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    UPDATE housekeeping h SET value = NULLIF(u.v, '')::float8
                    FROM unnest(\(samples.map(\.packet))::int8[], \(samples.map(\.channel))::int4[], \(values)::text[]) AS u(packet, channel, v)
                    WHERE h.packet_id = u.packet AND h.channel_id = u.channel
                    """, logger: logger)
                try await AnomalyRecorder.remove(.housekeepingLimits(packets: packets), connection: connection, logger: logger)
                try await AnomalyRecorder.insert(anomalies, connection: connection, logger: logger)
                try await connection.query("UPDATE housekeeping_derivation SET next_packet_id = \(Int64(last) + 1) WHERE id = 1", logger: logger)
            }
            result.packets += packets.count
            result.samples += samples.count
            result.violations += anomalies.count
        }
        logger.info("housekeeping derived with the dictionary", metadata: [
            "dictionary": "\(dictionary.dictionaryID)", "packets": "\(result.packets)", "violations": "\(result.violations)",
        ])
        return result
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
