import Foundation
import Logging
import PostgresNIO

/// What was exported (ICD-independent bookkeeping of PDS4 deliveries): `export_deliveries`, one
/// row per delivery, and `exported_products`, the public version history of every product LID.
/// The only writer of both tables.
public struct ExportRecords: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// One delivery as listed to archivists.
    public struct Delivery: Sendable, Codable, Equatable {
        public var id: Int
        public var createdAt: Date
        public var directory: String
        public var incremental: Bool
        public var products: Int
    }

    /// A product version delivered.
    public struct DeliveredProduct: Sendable {
        public var lid: String
        public var major: Int
        public var identity: String
        public var md5: String
        public init(lid: String, major: Int, identity: String, md5: String) {
            (self.lid, self.major, self.identity, self.md5) = (lid, major, identity, md5)
        }
    }

    /// The newest version (major, identity) of each of `lids` in the public history.
    public func latestVersions(_ lids: [String]) async throws -> [String: (Int, String)] {
        var result: [String: (Int, String)] = [:]
        let rows = try await database.client.query(
            """
            SELECT DISTINCT ON (lid) lid, version_major, identity FROM exported_products
            WHERE lid = ANY(\(lids)) ORDER BY lid, version_major DESC
            """, logger: logger)
        for try await (lid, major, identity) in rows.decode((String, Int, String).self) { result[lid] = (major, identity) }
        return result
    }

    /// The newest version of every product in the public history, as (lid, major).
    public func currentMembers() async throws -> [(lid: String, major: Int)] {
        var result: [(lid: String, major: Int)] = []
        for try await (lid, major) in try await database.client.query(
            "SELECT DISTINCT ON (lid) lid, version_major FROM exported_products ORDER BY lid, version_major DESC", logger: logger
        ).decode((String, Int).self) {
            result.append((lid, major))
        }
        return result
    }

    /// Records a delivery and (unless it is team-internal, which is no release) its products'
    /// versions in the public history; returns the delivery's id.
    public func recordDelivery(directory: String, incremental: Bool, teamInternal: Bool, delivered: [DeliveredProduct]) async throws -> Int {
        let logger = self.logger
        return try await database.client.inTransaction(logger: logger) { connection in
            var id = 0
            for try await value in try await connection.query(
                """
                INSERT INTO export_deliveries (directory, incremental, products, team_internal)
                VALUES (\(directory), \(incremental), \(delivered.count), \(teamInternal)) RETURNING id
                """, logger: logger).decode(Int.self) { id = value }
            for product in delivered where !teamInternal {
                try await connection.query(
                    """
                    INSERT INTO exported_products (lid, version_major, identity, md5, delivery_id)
                    VALUES (\(product.lid), \(product.major), \(product.identity), \(product.md5), \(id))
                    ON CONFLICT (lid, version_major) DO NOTHING
                    """, logger: logger)
            }
            return id
        }
    }

    /// The most recent deliveries, newest first.
    public func deliveries(limit: Int = 100) async throws -> [Delivery] {
        var result: [Delivery] = []
        for try await (id, created, directory, incremental, products) in try await database.client.query(
            "SELECT id, created_at, directory, incremental, products FROM export_deliveries ORDER BY id DESC LIMIT \(limit)", logger: logger
        ).decode((Int, Date, String, Bool, Int).self) {
            result.append(Delivery(id: id, createdAt: created, directory: directory, incremental: incremental, products: products))
        }
        return result
    }
}
