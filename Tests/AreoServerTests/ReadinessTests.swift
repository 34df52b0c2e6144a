import AreoServer
import AreoArchive
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@Suite struct ReadinessTests {
    static var logger: Logger {
        var logger = Logger(label: "areo-test")
        logger.logLevel = .warning
        return logger
    }

    static var migrationsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("migrations")
    }

    struct Readiness: Decodable { let status: String; let database: String; let migrations: String }

    @Test func readyzFollowsTheDatabaseWithoutARestart() async throws {
        let dir = URL(fileURLWithPath: "/tmp/areo-readyz-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = Int.random(in: 40000...49999)
        let cluster = EmbeddedPostgres(
            clusterDirectory: dir.appendingPathComponent("postgres"), durable: false, preferredPort: port, logger: Self.logger)
        let (location, _) = try await cluster.start()
        defer { try? cluster.stop() }

        let migrations = try Migration.load(from: Self.migrationsDirectory)
        let database = Database(location: location, logger: Self.logger)
        let (app, _) = try await AreoServer.makeApplication(
            configuration: .init(host: "127.0.0.1", port: 0, cacheDirectory: dir.appendingPathComponent("cache").path),
            database: database, migrations: migrations, logger: Self.logger)

        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.requestID] != nil)
                let body = try JSONDecoder().decode(Readiness.self, from: Data(String(buffer: response.body).utf8))
                #expect(body.migrations == "current")
            }

            try cluster.stop()
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONDecoder().decode(Readiness.self, from: Data(String(buffer: response.body).utf8))
                #expect(body.database == "unreachable")
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }

            _ = try await cluster.start()
            var recovered = false
            for _ in 0..<20 where !recovered {
                try await client.execute(uri: "/readyz", method: .get) { response in
                    recovered = response.status == .ok
                }
                if !recovered { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(recovered)
        }
    }
}
