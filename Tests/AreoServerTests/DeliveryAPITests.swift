import AreoDelivery
import AreoExport
import AreoArchive
import AreoProducts
import AreoServer
import AreoTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Products over HTTP from a real server on a real PostgreSQL, with the independent tiny-clean
/// mission loaded (observation 5300 is embargoed until 2099; 5301 and 5302 are public).
@Suite(.serialized) struct DeliveryAPITests {
    static let mission = SampleArchive.tinyClean

    /// A running server with the mission loaded; `body` gets a live client, the database, the delivery.
    static func withServer(
        workers: Int = 2, neighbours: Int = 4, cacheBytes: Int = 256 << 20,
        configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
        load: @Sendable (Database) async throws -> Void = { try await SampleArchive.load(into: $0) },
        _ body: @Sendable (any TestClientProtocol, Database, ProductDelivery) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { testDatabase in
            let database = Database(location: testDatabase.location, logger: TestDatabase.logger)
            let cache = ServerTestSupport.temporaryDirectory("delivery-cache"), exports = ServerTestSupport.temporaryDirectory("delivery-exports")
            defer {
                try? FileManager.default.removeItem(at: cache)
                try? FileManager.default.removeItem(at: exports)
            }
            var configuration = ServerConfiguration(
                host: "127.0.0.1", port: 0, cacheDirectory: cache.path, cacheBytes: cacheBytes, renderWorkers: workers,
                prefetchNeighbours: neighbours, maximumMosaicPixels: 4_000_000, exportDirectory: exports.path)
            configure(&configuration)
            let (app, delivery) = try await AreoServer.makeApplication(
                configuration: configuration,
                database: database, migrations: try Migration.load(from: TestDatabase.migrationsDirectory), logger: TestDatabase.logger)
            try await app.test(.live) { client in
                try await load(database)
                try await body(client, database, delivery)
            }
        }
    }

    /// A POSIX tar of the files in `directory`, made by Debian's tar.
    static func tar(_ directory: URL) throws -> [UInt8] {
        let output = ServerTestSupport.temporaryDirectory("tar").appendingPathComponent("set.tar")
        defer { try? FileManager.default.removeItem(at: output.deletingLastPathComponent()) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = ["--format=ustar", "-cf", output.path, "-C", directory.path, "."]
        try process.run()
        process.waitUntilExit()
        return [UInt8](try Data(contentsOf: output))
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    static func waitFor(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
    }

    static func jobs(_ client: any TestClientProtocol) async throws -> [[String: Any]] {
        try await client.execute(uri: "/v1/jobs", method: .get) { response in
            try #require(try json(response.body)["jobs"] as? [[String: Any]])
        }
    }

    static let composite = "/v1/observations/5301/products/composite?bands=NIR,PAN,BLU&scale=40&format=png"

    @Test func productsByIdSharedRendersConditionalGetAndANewKernel() async throws {
        try await Self.withServer(neighbours: 0) { client, database, delivery in
            // 50 concurrent requests for the same cold product: one render, the same bytes.
            let responses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?, String?, Data).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await client.execute(uri: Self.composite, method: .get) { r in
                            (r.status, r.headers[.eTag], r.headers[HTTPField.Name("Areo-Geometry-Kernel")!], Data(r.body.readableBytesView))
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.allSatisfy { $0.0 == .ok })
            #expect(Set(responses.map(\.1)).count == 1)
            #expect(Set(responses.map(\.3)).count == 1)
            #expect(responses.allSatisfy { $0.2 == "predi-3" })
            let png = try #require(responses.first?.3)
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let renders = try await Self.jobs(client).filter { ($0["product"] as? String)?.hasPrefix("5301-composite-NIR_PAN_BLU-40m") == true }
            #expect(renders.count == 1)
            #expect(delivery.scheduler.statistics().started == 1)

            // Conditional GET with the strong ETag.
            let etag = try #require(responses.first?.1)
            try await client.execute(uri: Self.composite, method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
            }
            try await client.execute(uri: Self.composite, method: .get) { response in
                #expect(response.headers[HTTPField.Name("Areo-Cache")!] == "hit")
            }

            // A truncated cache file is detected and rendered again, never served.
            let entries = delivery.cache.entriesByRecency()
            let composite = entries.first { ($0.attributes["file"] ?? "").hasPrefix("5301-composite") }
            let cached = try #require(composite)
            let path = delivery.cache.directory.appendingPathComponent("\(cached.key).product").path
            #expect(truncate(path, 100) == 0)
            try await client.execute(uri: Self.composite, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Areo-Cache")!] == "miss")
                #expect(Data(response.body.readableBytesView) == png)
            }
            #expect(delivery.scheduler.statistics().started == 2)

            // A newer kernel (archivist upload): the load returns the affected observations, and
            // from then on products carry the new kernel; the recently used one is regenerated.
            let kernel = try Data(contentsOf: Self.mission.appendingPathComponent("geometry/reconstructed.json"))
            try await client.execute(uri: "/v1/geometry?name=reconstructed.json", method: .post, body: ByteBuffer(bytes: kernel)) { response in
                #expect(response.status == .unauthorized)
            }
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            try await client.execute(uri: "/v1/geometry?name=reconstructed.json", method: .post, headers: archivist, body: ByteBuffer(bytes: kernel)) { response in
                #expect(response.status == .created)
                let changed = try #require((try Self.json(response.body)["regeneration"] as? [String: Any])?["inputsChanged"] as? [Int])
                #expect(Set(changed) == [5300, 5301, 5302])
            }
            try await Self.waitFor("the regeneration render") {
                try await Self.jobs(client).contains { $0["priority"] as? String == "regeneration" && $0["state"] as? String == "done" }
            }
            try await client.execute(uri: Self.composite, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Areo-Geometry-Kernel")!] == "recon-3")
                #expect(response.headers[HTTPField.Name("Areo-Cache")!] == "hit")  // regenerated in the background
                #expect(response.headers[.eTag] != etag)
            }

            // A calibration set as a tar of its directory, and an instrument description, uploaded.
            let tar = try Self.tar(Self.mission.appendingPathComponent("calibration/cal-0001"))
            try await client.execute(uri: "/v1/calibrations", method: .post, headers: archivist, body: ByteBuffer(bytes: tar)) { response in
                #expect(response.status == .created)
                let loaded = try Self.json(response.body)["loaded"] as? [String: String]
                #expect(loaded?["calibration_set"] == "cal-0001")
            }
            var hostile = tar
            hostile[100] ^= 0x55  // breaks the first header's checksum
            try await client.execute(uri: "/v1/calibrations", method: .post, headers: archivist, body: ByteBuffer(bytes: hostile)) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("offset 0"))
            }
            let instrument = try Data(contentsOf: Self.mission.appendingPathComponent("instrument.json"))
            try await client.execute(uri: "/v1/instruments", method: .post, headers: archivist, body: ByteBuffer(bytes: instrument)) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/instruments", method: .post, headers: archivist, body: ByteBuffer(string: "{\"name\": 3")) { response in
                #expect(response.status == .unprocessableContent || response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
            }

            // The PDS4 label of a dat, and a problem document for a bad request.
            try await client.execute(uri: "/v1/observations/5302/products/calibrated?band=PAN&format=xml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/xml")
                #expect(String(buffer: response.body).contains("Product_Observational"))
            }
            try await client.execute(uri: "/v1/observations/5302/products/composite?bands=PAN,PAN,PAN", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/v1/observations/5302/products/hologram", method: .get) { response in
                #expect(response.status == .notFound)
            }

            // Cache and metrics reflect all this.
            try await client.execute(uri: "/v1/cache", method: .get) { response in
                let statistics = try #require(try Self.json(response.body)["statistics"] as? [String: Any])
                #expect((statistics["hits"] as? Int ?? 0) >= 2)
                #expect((statistics["corruptDetected"] as? Int) == 1)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                for metric in ["areo_cache_hits_total", "areo_cache_misses_total", "areo_renders_total", "areo_regenerations_total",
                               "areo_render_queue_depth", "areo_cache_bytes", "areo_http_requests_total", "areo_http_request_duration_seconds"] {
                    #expect(text.contains(metric), "\(metric) exported")
                }
            }
        }
    }

    @Test func embargoedDataIsInvisibleWithoutATeamToken() async throws {
        try await Self.withServer { client, database, _ in
            let team = try await ServerTestSupport.authorization(.team, database: database)
            let publicToken = try await ServerTestSupport.authorization(.public, database: database)
            for headers in [HTTPFields(), publicToken] {
                try await client.execute(uri: "/v1/observations/5300", method: .get, headers: headers) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/v1/observations/5300/products/raw?band=PAN", method: .get, headers: headers) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/v1/observations", method: .get, headers: headers) { response in
                    let ids = try #require(try Self.json(response.body)["observations"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
                    #expect(ids == [5301, 5302])
                }
                try await client.execute(uri: "/list", method: .get, headers: headers) { response in
                    let page = String(buffer: response.body)
                    #expect(page.contains("/v1/observations/5301/products/"))
                    #expect(!page.contains("/v1/observations/5300"))
                }
            }
            try await client.execute(uri: "/v1/observations", method: .get, headers: [.authorization: "Bearer areo_not-a-token"]) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/observations/5300", method: .get, headers: team) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response.body)
                #expect((body["applicable"] as? [String: Any])?["geometry_kernel"] as? String == "predi-3")
                let footprint = try #require(body["footprint"] as? [String: Any])
                #expect((footprint["geometry"] as? [String: Any])?["type"] as? String == "Polygon")
                #expect((body["completeness"] as? [String: Any])?["status"] as? String == "complete")
            }
            try await client.execute(uri: "/v1/observations", method: .get, headers: team) { response in
                let total = try Self.json(response.body)["total"] as? Int
                #expect(total == 3)
            }
            try await client.execute(uri: "/v1/observations/5300/products/raw?band=PAN&format=png", method: .get, headers: team) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl]?.hasPrefix("private") == true)
            }

            // Search by region: the box of 5301 finds it, the opposite side of Mars finds nothing;
            // a team token also finds 5300 when it is in the box. Region mosaics honour the embargo.
            let bbox = try await client.execute(uri: "/v1/observations/5301", method: .get) { response in
                try #require(try Self.json(response.body)["bbox"] as? [Double])
            }
            let box = bbox.map { String($0) }.joined(separator: ",")
            try await client.execute(uri: "/v1/observations?bbox=\(box)", method: .get) { response in
                let ids = try #require(try Self.json(response.body)["observations"] as? [[String: Any]]).compactMap { $0["id"] as? Int }
                #expect(ids.contains(5301))
                #expect(!ids.contains(5300))
            }
            let opposite = [bbox[0] + 180, bbox[1], bbox[2] + 180, bbox[3]].map { String($0 > 360 ? $0 - 360 : $0) }.joined(separator: ",")
            try await client.execute(uri: "/v1/observations?bbox=\(opposite)", method: .get) { response in
                let total = try Self.json(response.body)["total"] as? Int
                #expect(total == 0)
            }
            try await client.execute(uri: "/v1/observations?bbox=1,2,3", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/observations?band=PAN&status=complete&limit=1", method: .get) { response in
                let body = try Self.json(response.body)
                #expect(body["total"] as? Int == 2)
                #expect((body["observations"] as? [Any])?.count == 1)
                #expect((body["next"] as? String)?.contains("offset=1") == true)
            }
            try await client.execute(uri: "/v1/mosaic?bbox=\(box)&scale=40&product=projected:PAN", method: .get) { response in
                #expect(response.status == .ok)
                let observations = response.headers[HTTPField.Name("Areo-Observations")!] ?? ""
                #expect(observations.split(separator: ",").contains("5301"))
                #expect(!observations.contains("5300"))
            }
            try await client.execute(uri: "/v1/mosaic?bbox=\(box)&scale=0.5&product=projected:PAN", method: .get) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body).contains("limit"))
            }
        }
    }

    @Test func aDisconnectedClientCancelsItsRenderAndHintsSupersede() async throws {
        try await Self.withServer(workers: 1, neighbours: 0) { client, _, delivery in
            // A slow render (a composite at a fine scale), asked for over a raw connection that
            // is then closed.
            let port = try #require(client.port)
            let slow = "/v1/observations/5302/products/composite?bands=NIR,PAN,BLU&scale=2&format=png"
            let socket = try RawHTTPClient(port: port)
            try socket.send("GET \(slow) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try await Self.waitFor("the slow render to start") { delivery.scheduler.activeJobs().contains { $0.state == .running } }
            let id = try #require(delivery.scheduler.activeJobs().first?.id)
            socket.close()
            try await Self.waitFor("the render to be cancelled") { delivery.scheduler.status(id: id)?.state == .cancelled }
            #expect(delivery.scheduler.statistics().completed == 0)

            // A browsing hint, then a newer one from the same session: the first one's jobs are cancelled.
            let first = #"{"session": "s1", "observations": [5301, 5302], "product": {"kind": "composite", "bands": "NIR,PAN,BLU", "scale": 2}}"#
            let (queued, session) = try await client.execute(uri: "/v1/prefetch", method: .post, body: ByteBuffer(string: first)) { response in
                #expect(response.status == .accepted)
                let document = try Self.json(response.body)
                // A public caller's session is one the server issues (the name it sent is not its own to claim).
                let session = try #require(document["session"] as? String)
                #expect(session.hasPrefix("p-") && session != "s1")
                return (try #require(document["queued"] as? [[String: Any]]).compactMap { $0["id"] as? String }, session)
            }
            #expect(queued.count == 2)
            let second = #"{"session": "\#(session)", "observations": [5302], "product": {"kind": "projected", "band": "PAN", "scale": 40}}"#
            try await client.execute(uri: "/v1/prefetch", method: .post, body: ByteBuffer(string: second)) { response in
                #expect(response.status == .accepted)
                let cancelled = try #require(try Self.json(response.body)["cancelled"] as? [String])
                #expect(Set(cancelled) == Set(queued))
            }
            try await Self.waitFor("the superseded hint's jobs to stop") {
                queued.allSatisfy { delivery.scheduler.status(id: $0)?.state == .cancelled }
            }
            try await Self.waitFor("the newer hint's render") {
                delivery.scheduler.recentJobs().contains { $0.product.hasPrefix("5302-projected-PAN-40m") && $0.state == .done }
            }
            try await client.execute(uri: "/v1/jobs/\(queued[0])", method: .get) { response in
                let state = try Self.json(response.body)["state"] as? String
                #expect(state == "cancelled")
            }
            try await client.execute(uri: "/v1/prefetch", method: .post, body: ByteBuffer(string: #"{"session": "x"}"#)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func servingAProductQueuesItsSpatialNeighbours() async throws {
        try await Self.withServer(neighbours: 4) { client, _, delivery in
            try await client.execute(uri: "/v1/observations/5301/products/projected?band=PAN&scale=40", method: .get) { #expect($0.status == .ok) }
            try await Self.waitFor("a neighbour render") {
                delivery.scheduler.recentJobs().contains { $0.priority == "neighbour" && $0.product.hasPrefix("5302-projected-PAN-40m") }
            }
            // Embargoed 5300 is not prefetched for a public client.
            #expect(!delivery.scheduler.recentJobs().contains { $0.product.hasPrefix("5300-") })
        }
    }
}

extension DeliveryAPITests {
    @Test func anArchivistRunsAnExportAsAJob() async throws {
        try await Self.withServer { client, database, _ in
            let body = ByteBuffer(string: #"{"observations": [5301], "scale": 40}"#)
            try await client.execute(uri: "/v1/exports", method: .post, body: body) { #expect($0.status == .unauthorized) }
            let team = try await ServerTestSupport.authorization(.team, database: database)
            try await client.execute(uri: "/v1/exports", method: .post, headers: team, body: body) { #expect($0.status == .forbidden) }
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            let job = try await client.execute(uri: "/v1/exports", method: .post, headers: archivist, body: body) { response in
                #expect(response.status == .accepted)
                return try #require(try Self.json(response.body)["id"] as? String)
            }
            try await Self.waitFor("the export job") {
                try await client.execute(uri: "/v1/jobs/\(job)", method: .get, headers: archivist) { try Self.json($0.body)["state"] as? String == "done" }
            }
            // An export is no public job: the public does not learn of it.
            try await client.execute(uri: "/v1/jobs/\(job)", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/jobs/\(job)", method: .get, headers: archivist) { response in
                let progress = try Self.json(response.body)["progress"] as? Double
                #expect(progress == 1)
            }
            let directory = try await client.execute(uri: "/v1/exports", method: .get, headers: archivist) { response in
                let deliveries = try #require(try Self.json(response.body)["deliveries"] as? [[String: Any]])
                #expect(deliveries.count == 1)
                #expect(deliveries.first?["products"] as? Int == 14)
                return try #require(deliveries.first?["directory"] as? String)
            }
            #expect(try DeliveryManifest.verify(URL(fileURLWithPath: directory)).isEmpty)
            try await client.execute(uri: "/v1/exports", method: .post, headers: archivist, body: ByteBuffer(string: "{\"scale\": \"big\"}")) {
                #expect($0.status == .badRequest)
            }
        }
    }
}

/// A plain TCP client, to send a request and hang up without waiting for the answer.
final class RawHTTPClient: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, connected == 0 else { throw CancellationError() }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw CancellationError() }
    }

    func close() { _ = Glibc.close(fd) }
}
