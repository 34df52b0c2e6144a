import AreoArchive
import AreoServer
import AreoTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@Suite struct TelemetryAPITests {
    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func uploadQueryAndReportOverHTTP() async throws {
        try await TestDatabase.withFreshDatabase { testDatabase in
            // The application runs its own pool as a service.
            let database = Database(location: testDatabase.location, logger: TestDatabase.logger)
            let migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
            let cache = ServerTestSupport.temporaryDirectory("telemetry-cache")
            defer { try? FileManager.default.removeItem(at: cache) }
            let (app, _) = try await AreoServer.makeApplication(
                configuration: .init(host: "127.0.0.1", port: 0, cacheDirectory: cache.path), database: database, migrations: migrations,
                logger: TestDatabase.logger)
            let mission = TestDatabase.samplesDirectory.appendingPathComponent("tiny-clean")
            let plan = try Data(contentsOf: mission.appendingPathComponent("plans.plan.jsonl"))
            let pass = try Data(contentsOf: mission.appendingPathComponent("pass_001.dds"))

            try await app.test(.router) { client in
                // Uploads need an archivist's token; without one: 401.
                try await client.execute(uri: "/v1/plans?name=plans.plan.jsonl", method: .post, body: ByteBuffer(bytes: plan)) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
                let auth = try await ServerTestSupport.authorization(.archivist, database: database)
                try await client.execute(uri: "/v1/plans?name=plans.plan.jsonl", method: .post, headers: auth, body: ByteBuffer(bytes: plan)) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/v1/passes?name=pass_001.dds", method: .post, headers: auth, body: ByteBuffer(bytes: pass)) { response in
                    #expect(response.status == .created)
                    let body = try Self.json(response.body)
                    #expect(body["records"] as? Int == 453)
                }
                // The same pass again: nothing changes.
                try await client.execute(uri: "/v1/passes?name=pass_001.dds", method: .post, headers: auth, body: ByteBuffer(bytes: pass)) { response in
                    #expect(response.status == .ok)
                    let body = try Self.json(response.body)
                    #expect(body["alreadyIngested"] as? Bool == true)
                }
                try await client.execute(uri: "/v1/packets?apid=1201&sclk_from=0&sclk_to=800000000", method: .get, headers: auth) { response in
                    #expect(response.status == .ok)
                    let packets = try #require(try Self.json(response.body)["packets"] as? [[String: Any]])
                    #expect(packets.count == 4)
                    #expect(packets.allSatisfy { $0["apid"] as? Int == 1201 })
                }
                try await client.execute(uri: "/v1/fragments?ert_from=2026-01-01T00:00:00Z&ert_to=2027-01-01T00:00:00Z", method: .get, headers: auth) { response in
                    #expect(response.status == .ok)
                    let fragments = try #require(try Self.json(response.body)["fragments"] as? [[String: Any]])
                    #expect(fragments.count >= 40)
                }
                try await client.execute(uri: "/v1/reports/completeness?observation=5300", method: .get, headers: auth) { response in
                    #expect(response.status == .ok)
                    let observations = try #require(try Self.json(response.body)["observations"] as? [[String: Any]])
                    #expect(observations.first?["observation_id"] as? Int == 5300)
                }

                // Hostile and malformed requests: clear problem documents, and the server goes on.
                try await client.execute(uri: "/v1/plans?name=bad.jsonl", method: .post, headers: auth, body: ByteBuffer(string: "{\"observation_id\": 1")) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    let detail = try #require(try Self.json(response.body)["detail"] as? String)
                    #expect(detail.hasPrefix("bad.jsonl:1"))
                }
                try await client.execute(uri: "/v1/passes?name=../../etc/passwd", method: .post, headers: auth, body: ByteBuffer(bytes: pass)) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(uri: "/v1/packets?apid=abc&sclk_from=0&sclk_to=1", method: .get, headers: auth) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(uri: "/v1/packets", method: .get, headers: auth) { response in
                    #expect(response.status == .badRequest)
                }
                try await client.execute(uri: "/v1/clock/wraps?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z", method: .get, headers: auth) { response in
                    #expect(response.status == .conflict)  // no kernel loaded yet
                }
                // Garbage as a pass: stored nowhere as packets, reported as damage, server fine.
                try await client.execute(uri: "/v1/passes?name=noise.dds", method: .post, headers: auth, body: ByteBuffer(bytes: (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })) { response in
                    #expect(response.status == .created)
                    let body = try Self.json(response.body)
                    #expect(body["damagedBytes"] as? Int == 5000)
                }
                try await client.execute(uri: "/healthz", method: .get, headers: auth) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }
}
