import AreoDelivery
import AreoProducts
import AreoServer
import AreoArchive
import AreoTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

/// Hostile requests and embargo on every path (issue 14), against a real server on a real
/// PostgreSQL with tiny-clean loaded (5300 embargoed until 2099).
@Suite(.serialized) struct HostileRequestTests {
    typealias API = DeliveryAPITests

    @Test func hostileValuesAnswer4xxNamingTheRuleAndTheServerKeepsServing() async throws {
        try await API.withServer(neighbours: 0) { client, database, _ in
            let team = try await ServerTestSupport.authorization(.team, database: database)
            let cases: [(String, HTTPFields, HTTPResponse.Status)] = [
                // The request that once stopped the whole server, and a span of millennia.
                ("/v1/clock/wraps?from=1667-09-11T17:05:47Z&to=2026-06-02T02:40:18Z", [:], .badRequest),
                ("/v1/clock/wraps?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", [:], .badRequest),
                ("/v1/clock/wraps?from=2026-01-01T00:00:00Z&to=2029-01-01T00:00:00Z", [:], .badRequest),
                ("/v1/clock/wraps?from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z", [:], .badRequest),
                ("/v1/packets?ert_from=2026-01-01T00:00:00Z&ert_to=2026-01-02T00:00:00Z&limit=-5", team, .badRequest),
                ("/v1/packets?ert_from=2026-01-01T00:00:00Z&ert_to=2026-01-02T00:00:00Z&limit=1000000000", team, .badRequest),
                ("/v1/packets?apid=99999&sclk_from=0&sclk_to=1", team, .badRequest),
                ("/v1/packets?apid=1200&sclk_from=-1e300&sclk_to=1e300", team, .badRequest),
                ("/v1/fragments?sclk_from=0&sclk_to=1&limit=-1", team, .badRequest),
                ("/v1/fragments?ert_from=9999-12-31T23:59:59Z&ert_to=9999-12-31T23:59:59Z", team, .badRequest),
                ("/v1/reports/health?day=9999-99-99", team, .badRequest),
                ("/v1/anomalies?observation=99999999999999999999", team, .badRequest),
                ("/v1/observations?limit=abc", [:], .badRequest),
                ("/v1/observations?offset=-3", [:], .badRequest),
                ("/v1/observations?bbox=nan,0,10,10", [:], .badRequest),
                ("/v1/observations?utc_from=2026-01-01T00:00:00Z", [:], .badRequest),
                ("/v1/observations/99999999999999999999", [:], .badRequest),
                ("/v1/observations/-1", [:], .badRequest),
                ("/v1/observations/5301/products/projected?band=PAN&scale=1e309", [:], .badRequest),
                ("/v1/observations/5301/products/projected?band=PAN&scale=-4", [:], .badRequest),
                ("/v1/mosaic?bbox=0,-89,359,89&scale=0.5", [:], .unprocessableContent),
                ("/v1/jobs/not-a-job", [:], .notFound),
            ]
            // Refusals carry a stable machine-readable code beside the human detail.
            let coded: [(String, HTTPResponse.Status, String)] = [
                ("/v1/observations/5301/products/composite?bands=PAN,PAN,PAN&format=png", .badRequest, "invalid_request"),
                ("/v1/observations/5301/products/projected?band=PAN&format=tiff", .badRequest, "invalid_parameter"),
                ("/v1/mosaic?bbox=0,-89,359,89&scale=0.5", .unprocessableContent, "too_large"),
                ("/v1/observations/123456/products/projected?band=PAN&format=png", .notFound, ""),
            ]
            for (uri, status, code) in coded {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == status, "\(uri)")
                    let problem = try API.json(response.body)
                    #expect((problem["code"] as? String ?? "") == code, "\(uri)")
                }
            }
            for (uri, headers, expected) in cases {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == expected, "\(uri)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(uri)")
                    let detail = try API.json(response.body)["detail"] as? String ?? ""
                    #expect(!detail.isEmpty && !detail.contains("PSQL"), "\(uri): \(detail)")
                }
            }
            let problem = try await client.execute(uri: "/v1/packets?ert_from=2026-01-01T00:00:00Z&ert_to=2026-01-02T00:00:00Z&limit=-5", method: .get, headers: team) {
                try API.json($0.body)["detail"] as? String
            }
            #expect(problem == "limit must be an integer in 1…10000, is '-5'")
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/observations/5301", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func thePublicLearnsNothingOfAnEmbargoedObservationTheTeamSeesIt() async throws {
        try await API.withServer(neighbours: 0) { client, database, delivery in
            let team = try await ServerTestSupport.authorization(.team, database: database)
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            let embargoed = "/v1/observations/5300/products/projected?band=PAN&scale=40&format=png"
            try await client.execute(uri: embargoed, method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: embargoed, method: .get, headers: team) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/observations/5301/products/projected?band=PAN&scale=40&format=png", method: .get) { #expect($0.status == .ok) }
            let job = try #require(delivery.scheduler.recentJobs().first { $0.product.hasPrefix("5300-") })

            // Jobs, one job, the cache: the team sees 5300, the public does not.
            for (headers, sees) in [([:] as HTTPFields, false), (team, true)] {
                let jobs = try await client.execute(uri: "/v1/jobs", method: .get, headers: headers) { String(buffer: $0.body) }
                #expect(jobs.contains("5300-") == sees)
                #expect(jobs.contains("5301-"))
                try await client.execute(uri: "/v1/jobs/\(job.id)", method: .get, headers: headers) { #expect($0.status == (sees ? .ok : .notFound)) }
                let cache = try await client.execute(uri: "/v1/cache", method: .get, headers: headers) { String(buffer: $0.body) }
                #expect(cache.contains("5300-") == sees)
                #expect(cache.contains("5301-"))
            }
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(!metrics.contains("5300"))

            // The wrap calendar lists an embargoed planned observation for the team only.
            let start = try await client.execute(uri: "/v1/observations/5301", method: .get) { try #require(try API.json($0.body)["start_utc"] as? String) }
            let anchor = try #require(GroundTimeParse.date(start))
            let plan = #"{"observation_id": 9001, "start_sclk": 720895990.0, "exposures": 100, "interval_s": 0.5, "exposure_us": 1500, "binning": 1, "bits_per_sample": 14, "compression": "ccsds121", "rotation_deg": 0.0, "bands": [{"band": "PAN", "first_row": 25, "rows": 32, "first_col": 0, "cols": 256}], "embargo_until": "2099-01-01T00:00:00Z"}"#
            try await client.execute(uri: "/v1/plans?name=secret.plan.jsonl", method: .post, headers: archivist, body: ByteBuffer(string: plan)) { #expect($0.status == .ok) }
            let span = "from=\(GroundTimeParse.iso(anchor.addingTimeInterval(-190 * 86_400)))&to=\(GroundTimeParse.iso(anchor.addingTimeInterval(190 * 86_400)))"
            let teamWraps = try await client.execute(uri: "/v1/clock/wraps?\(span)", method: .get, headers: team) { String(buffer: $0.body) }
            #expect(teamWraps.contains("9001"))
            let publicWraps = try await client.execute(uri: "/v1/clock/wraps?\(span)", method: .get) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
            #expect(!publicWraps.contains("9001"))
            #expect(publicWraps.contains("720896000"), "the wrap moment itself is public")
        }
    }

    @Test func anObservationWithoutAPlanIsTheTeamsOnly() async throws {
        try await API.withServer(neighbours: 0) { client, database, delivery in
            let team = try await ServerTestSupport.authorization(.team, database: database)
            try await database.client.query("DELETE FROM plans WHERE observation_id = 5301", logger: TestDatabase.logger)
            _ = try await ObservationCatalog(database: database, logger: TestDatabase.logger).refresh()
            try await client.execute(uri: "/v1/observations/5301", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/observations/5301", method: .get, headers: team) { response in
                #expect(response.status == .ok)
                let document = try API.json(response.body)
                #expect(document["planned"] as? Bool == false)
            }
            let listed = try await client.execute(uri: "/v1/observations", method: .get) { String(buffer: $0.body) }
            #expect(!listed.contains("\"id\":5301") && !listed.contains("\"id\" : 5301"))
            #expect(try await delivery.entry(observationID: 5301)?.isPublic() == false)
        }
    }

    @Test func aPrefetchSessionIsCancelledOnlyByWhoCreatedIt() async throws {
        try await API.withServer(workers: 1, neighbours: 0) { client, database, delivery in
            let alice = try await ServerTestSupport.authorization(.team, database: database)
            let mallory = try await ServerTestSupport.authorization(.team, database: database)
            let hint = #"{"session": "browse", "observations": [5301, 5302], "product": {"kind": "composite", "bands": "NIR,PAN,BLU", "scale": 2}}"#
            let queued = try await client.execute(uri: "/v1/prefetch", method: .post, headers: alice, body: ByteBuffer(string: hint)) { response in
                #expect(response.status == .accepted)
                return try #require(try API.json(response.body)["queued"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            }
            #expect(queued.count == 2)
            // Another token naming the same session cancels nothing of Alice's.
            try await client.execute(uri: "/v1/prefetch/browse", method: .delete, headers: mallory) { response in
                #expect(response.status == .ok)
                let document = try API.json(response.body)
                #expect(document["cancelled"] as? [String] == [])
            }
            let other = #"{"session": "browse", "observations": [5302], "product": {"kind": "projected", "band": "PAN", "scale": 40}}"#
            try await client.execute(uri: "/v1/prefetch", method: .post, headers: mallory, body: ByteBuffer(string: other)) { response in
                let document = try API.json(response.body)
                #expect(document["cancelled"] as? [String] == [])
            }
            #expect(queued.allSatisfy { delivery.scheduler.status(id: $0)?.state != .cancelled })
            // The public cannot name a session it was not issued.
            try await client.execute(uri: "/v1/prefetch/browse", method: .delete) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/prefetch/p-00000000000000000000000000000000-00000000000000000000000000000000", method: .delete) {
                #expect($0.status == .notFound)
            }
            // Alice cancels her own.
            try await client.execute(uri: "/v1/prefetch/browse", method: .delete, headers: alice) { response in
                let document = try API.json(response.body)
                #expect(Set(document["cancelled"] as? [String] ?? []) == Set(queued.filter { delivery.scheduler.status(id: $0)?.state != .done }))
            }
            try await API.waitFor("Alice's jobs to stop") { queued.allSatisfy { [.cancelled, .done].contains(delivery.scheduler.status(id: $0)?.state) } }
        }
    }

    @Test func limitsAnswer429And413AndAnExpiredTokenAnswers401() async throws {
        try await API.withServer(workers: 1, neighbours: 0, configure: {
            $0.requestsPerSecond = 2
            $0.requestBurst = 5
            $0.maximumUploadBytes = 1_000
        }) { client, database, _ in
            var statuses: [HTTPResponse.Status] = []
            var retryAfter: String?
            for _ in 0..<12 {
                try await client.execute(uri: "/v1/observations", method: .get) { response in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests { retryAfter = response.headers[.retryAfter] }
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .ok })
            #expect(statuses.contains(.tooManyRequests))
            #expect(Int(retryAfter ?? "") ?? 0 >= 1)

            // A token is its own client: it is not limited by the public's use of the address.
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            try await client.execute(uri: "/v1/passes?name=big.dds", method: .post, headers: archivist, body: ByteBuffer(bytes: [UInt8](repeating: 0, count: 5_000))) {
                #expect($0.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/prefetch", method: .post, headers: archivist, body: ByteBuffer(bytes: [UInt8](repeating: 32, count: 2 << 20))) {
                #expect($0.status == .contentTooLarge)
            }
            let expired = try await AccessTokens(database: database, logger: TestDatabase.logger).create(role: .team, label: "expired", expiresAfter: -60)
            try await client.execute(uri: "/v1/observations", method: .get, headers: [.authorization: "Bearer \(expired)"]) { response in
                #expect(response.status == .unauthorized)
                let document = try API.json(response.body)
                #expect((document["detail"] as? String)?.contains("expired") == true)
            }
        }
    }

    @Test func aClientMayWaitForOnlySoManyColdRendersAtOnce() async throws {
        try await API.withServer(workers: 1, neighbours: 0, configure: { $0.coldRendersPerClient = 1 }) { client, _, delivery in
            let slow = "/v1/observations/5302/products/composite?bands=NIR,PAN,BLU&scale=2&format=png"
            // A client that waits (its connection stays open) for a slow cold render…
            let socket = try RawHTTPClient(port: try #require(client.port))
            defer { socket.close() }
            try socket.send("GET \(slow) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await API.waitFor("the slow render to start") { delivery.scheduler.activeJobs().contains { $0.state == .running } }
            // …may not start another one meanwhile.
            try await client.execute(uri: "/v1/observations/5301/products/projected?band=PAN&scale=40", method: .get) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] != nil)
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }
}

/// ISO 8601 UTC both ways, for building query strings.
enum GroundTimeParse {
    static func date(_ text: String) -> Date? { try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) ?? Date(text, strategy: .iso8601) }
    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
}
