import AreoArchive
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite(.serialized) struct EmbeddedPostgresTests {
    static func temporaryDirectory() throws -> URL {
        let url = URL(fileURLWithPath: "/tmp").appendingPathComponent("areo-embedded-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func keepsItsDataAcrossStopAndStart() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cluster = EmbeddedPostgres(
            clusterDirectory: dir.appendingPathComponent("postgres"), durable: false, logger: TestDatabase.logger)
        #expect(cluster.status() == .notInitialized)

        let (first, startedFirst) = try await cluster.start()
        #expect(startedFirst)
        guard case .running = cluster.status() else { Issue.record("not running after start"); return }
        try await Database.withDatabase(location: first, logger: TestDatabase.logger) { database in
            try await database.client.query("CREATE TABLE survivor (note text)", logger: TestDatabase.logger)
            try await database.client.query("INSERT INTO survivor VALUES ('still here')", logger: TestDatabase.logger)
        }

        // A second user finds the running cluster and does not claim it.
        let (again, startedAgain) = try await cluster.start()
        #expect(!startedAgain)
        #expect(again == first)

        try cluster.stop()
        #expect(cluster.status() == .stopped)

        let (second, startedSecond) = try await cluster.start()
        #expect(startedSecond)
        let notes = try await Database.withDatabase(location: second, logger: TestDatabase.logger) { database in
            var notes: [String] = []
            for try await note in try await database.client.query("SELECT note FROM survivor", logger: TestDatabase.logger)
                .decode(String.self) { notes.append(note) }
            return notes
        }
        #expect(notes == ["still here"])
        try cluster.stop()
    }

    @Test func rejectsAMalformedURL() {
        #expect(throws: StoreError.self) { try DatabaseLocation(url: "mysql://x/y") }
        #expect(throws: StoreError.self) { try DatabaseLocation(url: "postgres://host") }
        let location = try? DatabaseLocation(url: "postgres://u:secret@db.example:6543/areo")
        #expect(location?.port == 6543)
        #expect(location?.description.contains("secret") == false)
    }
}
