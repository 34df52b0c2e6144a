import AreoArchive
import AreoGeometry
import AreoProducts
import AreoServer
import AreoTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// ICD §12 end to end through the server on the independent `tiny-terrain` mission: with only its
/// predicted kernel, a refinement without control is refused and keeps the geometry; a reference
/// map uploaded through the one load path lets a request refine it, the product regenerates with
/// the refined kernel named in its provenance header; a reconstructed kernel arriving later
/// applies over the refined one (derived from predicted) until the archive refines again from it.
@Suite(.serialized) struct RefinementAPITests {
    static let uri = "/v1/observations/5500/products/projected?band=PAN&scale=40&format=dat"

    static func kernelOfProduct(_ client: any TestClientProtocol, _ headers: HTTPFields) async throws -> (kernel: String, etag: String) {
        try await client.execute(uri: uri, method: .get, headers: headers) { response in
            #expect(response.status == .ok)
            return (try #require(response.headers[HTTPField.Name("Areo-Geometry-Kernel")!]), try #require(response.headers[.eTag]))
        }
    }

    static func applicableKernel(_ database: Database) async throws -> String? {
        try await ObservationCatalog(database: database, logger: TestDatabase.logger).entry(observationID: 5500)?.kernelID
    }

    /// The reference map as the upload route takes it: a tar of the GeoTIFF and its side file.
    static func referenceMapTar() throws -> [UInt8] {
        let folder = ServerTestSupport.temporaryDirectory("refmap")
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["ctx-like-mosaic.tif", "ctx-like-mosaic.tif.json"] {
            try FileManager.default.copyItem(at: SampleArchive.tinyTerrain.appendingPathComponent("refmap/\(name)"), to: folder.appendingPathComponent(name))
        }
        return try DeliveryAPITests.tar(folder)
    }

    @Test func refinementOnRequestRegeneratesAndFollowsNewerKernels() async throws {
        try await DeliveryAPITests.withServer(
            neighbours: 0, configure: { $0.automaticRefinement = false },
            load: { database in
                try await SampleArchive.load(SampleArchive.tinyTerrain, kernel: "predicted", into: database)
                _ = try await SampleArchive.loadShapeModels(into: database)
            }
        ) { client, database, _ in
            let team = try await ServerTestSupport.authorization(.team, database: database)
            let archivist = try await ServerTestSupport.authorization(.archivist, database: database)
            let (predicted, firstETag) = try await Self.kernelOfProduct(client, team)
            #expect(predicted == "predi-5")

            // No control yet: refused with its reason, the geometry kept.
            try await client.execute(uri: "/v1/observations/5500/refine", method: .post, headers: team) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/observations/5500/refine", method: .post, headers: archivist) { response in
                #expect(response.status == .unprocessableContent)
                let body = try DeliveryAPITests.json(response.body)
                #expect((body["accepted"] as? Bool) == false)
                #expect((body["reason"] as? String)?.contains("no control") == true, "\(body)")
            }
            #expect(try await Self.applicableKernel(database) == "predi-5")
            try await client.execute(uri: "/v1/observations/abc/refine", method: .post, headers: archivist) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/observations/999/refine", method: .post, headers: archivist) { #expect($0.status == .notFound) }

            // The reference map through the load path; a broken one is refused naming the rule.
            try await client.execute(uri: "/v1/reference-maps", method: .post, headers: archivist, body: ByteBuffer(bytes: try Self.referenceMapTar())) { response in
                #expect(response.status == .created, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/v1/reference-maps", method: .post, headers: archivist, body: ByteBuffer(bytes: try DeliveryAPITests.tar(ServerTestSupport.temporaryDirectory("empty")))) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/reference-maps", method: .get) { response in
                let maps = try #require(try DeliveryAPITests.json(response.body)["reference_maps"] as? [[String: Any]])
                #expect(maps.map { $0["map_id"] as? String } == ["ctx-like-mosaic"])
            }

            // Refined on request: a refined kernel derived from the predicted one applies; the product regenerates with it.
            var refinedFromPredicted = ""
            try await client.execute(uri: "/v1/observations/5500/refine", method: .post, headers: archivist) { response in
                let body = try DeliveryAPITests.json(response.body)
                #expect(response.status == .created, "\(body)")
                refinedFromPredicted = try #require(body["refined_kernel_id"] as? String)
                #expect((body["base_kernel_id"] as? String) == "predi-5")
                let result = try #require(body["result"] as? [String: Any])
                #expect((result["ties"] as? Int ?? 0) >= 12)
                #expect((result["residual_rms_after_px"] as? Double ?? 9) < (result["residual_rms_before_px"] as? Double ?? 0))
            }
            #expect(try await Self.applicableKernel(database) == refinedFromPredicted)
            let (kernel, etag) = try await Self.kernelOfProduct(client, team)
            #expect(kernel == refinedFromPredicted)
            #expect(etag != firstETag)
            try await client.execute(uri: Self.uri.replacingOccurrences(of: "format=dat", with: "format=xml"), method: .get, headers: team) { response in
                #expect(String(buffer: response.body).contains(refinedFromPredicted))
            }
            let stored = try await InputRepository(database: database, logger: TestDatabase.logger).kernel(refinedFromPredicted)
            #expect(stored.kind == .refined)
            #expect(stored.derivedFrom?.kernelID == "predi-5")
            #expect(stored.derivedFrom?.referenceMaps == ["ctx-like-mosaic"])
            #expect((stored.refinement?.ties ?? 0) >= 12)

            // The team sees the refinements and the timing report; the public does not.
            try await client.execute(uri: "/v1/geometry/refinements", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/geometry/refinements?observation=5500", method: .get, headers: team) { response in
                let list = try #require(try DeliveryAPITests.json(response.body)["refinements"] as? [[String: Any]])
                #expect(list.count == 2)
                #expect(list.map { $0["accepted"] as? Bool } == [true, false])
            }
            try await client.execute(uri: "/v1/geometry/refinements?limit=0", method: .get, headers: team) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/geometry/timing", method: .get, headers: team) { response in
                let kernels = try #require(try DeliveryAPITests.json(response.body)["kernels"] as? [[String: Any]])
                #expect(kernels.first?["kernel_id"] as? String == "predi-5")
                let offset = try #require(kernels.first?["offset_s"] as? Double)
                #expect(offset < -0.1 && offset > -0.4, "tiny-terrain's predicted orbit is 0.25 s late: \(offset)")
            }

            // A reconstructed kernel: of a higher kind than the refined one's base, so it applies…
            try await SampleArchive.loadKernel("reconstructed", of: SampleArchive.tinyTerrain, into: database)
            #expect(try await Self.applicableKernel(database) == "recon-5")
            #expect(try await Self.kernelOfProduct(client, team).kernel == "recon-5")
            // …until the archive refines again from it.
            var refinedFromReconstructed = ""
            try await client.execute(uri: "/v1/observations/5500/refine", method: .post, headers: archivist) { response in
                let body = try DeliveryAPITests.json(response.body)
                #expect(response.status == .created, "\(body)")
                #expect((body["base_kernel_id"] as? String) == "recon-5")
                refinedFromReconstructed = try #require(body["refined_kernel_id"] as? String)
                // The reconstructed geometry was right already: the correction is small.
                let correction = try #require((body["result"] as? [String: Any])?["correction"] as? [String: Any])
                #expect(abs(correction["time_offset_s"] as? Double ?? 9) < 0.05, "\(correction)")
            }
            #expect(refinedFromReconstructed != refinedFromPredicted)
            #expect(try await Self.applicableKernel(database) == refinedFromReconstructed)
            #expect(try await InputRepository(database: database, logger: TestDatabase.logger).kernel(refinedFromReconstructed).derivedFrom?.kernelID == "recon-5")
        }
    }

    @Test func refinementRunsAutomaticallyWhenControlArrives() async throws {
        try await DeliveryAPITests.withServer(
            neighbours: 0, configure: { $0.catalogPollInterval = .milliseconds(200) },
            load: { database in try await SampleArchive.load(SampleArchive.tinyTerrain, kernel: "predicted", into: database) }
        ) { client, database, _ in
            _ = try await ArchiveLoads(database: database, logger: TestDatabase.logger).referenceMap(
                path: SampleArchive.tinyTerrain.appendingPathComponent("refmap/ctx-like-mosaic.tif").path, file: "ctx-like-mosaic.tif")
            var applied: String? = nil
            for _ in 0..<300 {
                applied = try await Self.applicableKernel(database)
                if applied?.hasPrefix("refined-5500-") == true { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(applied?.hasPrefix("refined-5500-") == true, "\(applied ?? "none")")
            let records = try await GeometryRefinementRepository(database: database, logger: TestDatabase.logger).list(observationID: 5500)
            #expect(records.count == 1)
            #expect(records.first?.trigger == .automatic)
            // Nothing changed since: no second attempt.
            try await Task.sleep(for: .seconds(1))
            #expect(try await GeometryRefinementRepository(database: database, logger: TestDatabase.logger).list(observationID: 5500).count == 1)

            // A reconstructed kernel arrives: it applies at once (the refined one was derived from
            // the predicted), and the archive refines again from it on its own.
            try await SampleArchive.loadKernel("reconstructed", of: SampleArchive.tinyTerrain, into: database)
            #expect(try await Self.applicableKernel(database) == "recon-5")
            var again: String? = nil
            for _ in 0..<300 {
                again = try await Self.applicableKernel(database)
                if again?.hasPrefix("refined-5500-") == true { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let refined = try #require(again)
            #expect(refined != applied)
            #expect(try await InputRepository(database: database, logger: TestDatabase.logger).kernel(refined).derivedFrom?.kernelID == "recon-5")
            _ = client
        }
    }
}
