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
import Testing

/// The one load path (issue 15): every load, by HTTP or by another process, regenerates what
/// it made stale, and a server hears loads at once.
@Suite(.serialized) struct LoadPathTests {
    typealias API = DeliveryAPITests
    static let product = "/v1/observations/5301/products/projected?band=PAN&scale=40&format=png"

    @Test func aPassUploadedOverHTTPRegeneratesTheProductsItMadeStale() async throws {
        try await API.withServer(neighbours: 0, load: { try await SampleArchive.load(passes: { $0 != "pass_003.dds" }, into: $0) }) { client, database, delivery in
            // 5301 is half delivered: its product is made from the first pass's fragments.
            let before = try await client.execute(uri: Self.product, method: .get) { response in
                #expect(response.status == .ok)
                return response.headers[.eTag]
            }
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            let pass = try Data(contentsOf: SampleArchive.tinyClean.appendingPathComponent("pass_003.dds"))
            try await client.execute(uri: "/v1/passes?name=pass_003.dds", method: .post, headers: archivist, body: ByteBuffer(bytes: pass)) {
                #expect($0.status == .created)
            }
            // The stale product was dropped and re-rendered in the background (it was recently used).
            try await API.waitFor("the regeneration of 5301's product") {
                delivery.scheduler.recentJobs().contains { $0.priority == "regeneration" && $0.product.hasPrefix("5301-projected-PAN-40m") && $0.state == .done }
            }
            let after = try await client.execute(uri: Self.product, method: .get) { response in
                #expect(response.headers[.init("Areo-Cache")!] == "hit", "served from the regenerated entry")
                return response.headers[.eTag]
            }
            #expect(before != nil && after != nil && before != after, "the product now includes the second pass's fragments")
        }
    }

    @Test func aLoadByAnotherProcessIsHeardAtOnceNotPolled() async throws {
        // Polling every hour: only the load's notification can make the server regenerate.
        try await API.withServer(neighbours: 0, configure: { $0.catalogPollInterval = .seconds(3_600) }) { client, database, delivery in
            try await client.execute(uri: Self.product, method: .get) { #expect($0.status == .ok) }
            // Another process (here: another connection pool) loads a newer kernel.
            try await Database.withDatabase(location: database.location, logger: TestDatabase.logger) { other in
                try await SampleArchive.loadKernel("reconstructed", into: other)
            }
            try await API.waitFor("the regeneration after the other process's load", timeout: .seconds(15)) {
                delivery.scheduler.recentJobs().contains { $0.priority == "regeneration" && $0.product.hasPrefix("5301-projected-PAN-40m") }
            }
            try await client.execute(uri: Self.product, method: .get) { response in
                #expect(response.headers[.init("Areo-Geometry-Kernel")!]?.contains("recon") == true)
            }
        }
    }

    @Test func aKernelReloadedUnderItsIdWithOtherContentIsRefusedUnlessReplacedThenRegenerates() async throws {
        try await API.withServer(neighbours: 0) { client, database, delivery in
            let digest = HTTPField.Name("Areo-Inputs-Digest")!
            let before = try await client.execute(uri: Self.product, method: .get) { response in
                #expect(response.status == .ok)
                return response.headers[digest]
            }
            #expect(before?.contains("/") == true)
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            var kernel = try Data(contentsOf: SampleArchive.tinyClean.appendingPathComponent("geometry/predicted.json"))
            // The same content again: nothing changes.
            try await client.execute(uri: "/v1/geometry?name=predicted.json", method: .post, headers: archivist, body: ByteBuffer(bytes: kernel)) { response in
                #expect(response.status == .created)
                let regeneration = try API.json(response.body)["regeneration"] as? [String: Any]
                #expect((regeneration?["inputsChanged"] as? [Int]) == [])
            }
            // Other content under the same id: refused, naming both digests, and nothing changes.
            kernel.append(contentsOf: Array("\n ".utf8))
            try await client.execute(uri: "/v1/geometry?name=predicted-edited.json", method: .post, headers: archivist, body: ByteBuffer(bytes: kernel)) { response in
                #expect(response.status == .conflict)
                let document = try API.json(response.body)
                let detail = document["detail"] as? String ?? ""
                #expect(detail.contains("sha256") && detail.contains("--replace"), "\(detail)")
            }
            try await client.execute(uri: Self.product, method: .get) { #expect($0.headers[digest] == before) }
            // Replaced: a new input, so the product is regenerated and states the new digest.
            try await client.execute(uri: "/v1/geometry?name=predicted-edited.json&replace=true", method: .post, headers: archivist, body: ByteBuffer(bytes: kernel)) { response in
                #expect(response.status == .created)
                let regeneration = try API.json(response.body)["regeneration"] as? [String: Any]
                #expect((regeneration?["inputsChanged"] as? [Int])?.contains(5301) == true)
            }
            try await API.waitFor("the regeneration after the replacement") {
                delivery.scheduler.recentJobs().contains { $0.priority == "regeneration" && $0.product.hasPrefix("5301-projected-PAN-40m") }
            }
            let after = try await client.execute(uri: Self.product, method: .get) { $0.headers[digest] }
            #expect(after != nil && after != before)
            #expect(after?.split(separator: "/").last == before?.split(separator: "/").last, "the calibration set's digest is unchanged")
        }
    }
}
