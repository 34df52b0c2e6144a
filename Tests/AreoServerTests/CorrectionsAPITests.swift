import AreoArchive
import AreoProducts
import AreoServer
import AreoTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The CaSSIS corrections through the server on the independent `tiny-terrain` mission: a shape
/// model loaded through the one load path changes what applies to the observation and so its
/// products (regenerated with the terrain, stated in headers and the label); the mechanism's
/// offset is estimated from the data, applied, and reported to the team only.
@Suite(.serialized) struct CorrectionsAPITests {
    static func truth(_ key: String) throws -> Double {
        let url = SampleArchive.tinyTerrain.appendingPathComponent("truth.json")
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return ((truth[key] as! [String: Any])["5500"] as! NSNumber).doubleValue
    }

    @Test func shapeModelsRegenerateProductsAndTheMechanismIsReported() async throws {
        // A limit below tiny-terrain's offset (−0.079°): its estimate is an anomaly for operations.
        try await DeliveryAPITests.withServer(
            neighbours: 0, configure: { $0.corrections.mechanismOffsetLimitDegrees = 0.05 },
            load: { try await SampleArchive.load(SampleArchive.tinyTerrain, kernel: "reconstructed", into: $0) }
        ) { client, database, _ in
            let team = try await ServerTestSupport.authorization(.team, database: database)
            let uri = "/v1/observations/5500/products/projected?band=PAN&scale=40&format=dat"
            var before: (etag: String, offset: Double)? = nil
            try await client.execute(uri: uri, method: .get, headers: team) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Areo-Shape-Models")!] == "none")
                let offset = try #require(response.headers[HTTPField.Name("Areo-Mechanism-Offset")!].flatMap(Double.init))
                before = (try #require(response.headers[.eTag]), offset)
            }
            // The public does not see the embargoed observation's product, nor the mechanism report.
            try await client.execute(uri: uri, method: .get) { #expect($0.status == .notFound || $0.status == .forbidden) }
            try await client.execute(uri: "/v1/mechanism", method: .get) { #expect($0.status == .unauthorized) }

            // Both shape models through the load path: the observation's inputs change.
            let reports = try await SampleArchive.loadShapeModels(into: database)
            #expect(reports.contains { $0.inputsChanged.contains(5500) }, "\(reports)")
            let entry = try #require(try await ObservationCatalog(database: database, logger: TestDatabase.logger).entry(observationID: 5500))
            #expect(entry.shapeModelIDs == ["hrsc-like-fine", "mola-like-coarse"])
            #expect(entry.inputsDigest.split(separator: "/").count == 3, "\(entry.inputsDigest)")

            let truth = try Self.truth("mechanism_offsets_deg")
            try await client.execute(uri: uri, method: .get, headers: team) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Areo-Shape-Models")!] == "hrsc-like-fine,mola-like-coarse")
                #expect(response.headers[.eTag] != before?.etag, "regenerated on the terrain")
                let offset = try #require(response.headers[HTTPField.Name("Areo-Mechanism-Offset")!].flatMap(Double.init))
                #expect(abs(offset - truth) <= 0.01, "estimated \(offset)° against \(truth)°")
                let epsilon = try #require(response.headers[HTTPField.Name("Areo-Straylight-Epsilon")!].flatMap(Double.init))
                #expect(abs(epsilon - (try Self.truth("straylight_epsilon"))) <= 0.1)
            }
            try await client.execute(uri: uri.replacingOccurrences(of: "format=dat", with: "format=xml"), method: .get, headers: team) { response in
                let label = String(buffer: response.body)
                #expect(label.contains("<areo:shape_model_ids xmlns:areo=\"urn:areo:mission\">hrsc-like-fine,mola-like-coarse</areo:shape_model_ids>"))
                #expect(label.contains("<areo:mechanism_offset_deg"))
            }
            // The team's report: one estimate per set of inputs (the regeneration after the first
            // model's load made one with it alone), the latest on both.
            try await client.execute(uri: "/v1/mechanism?observation=5500", method: .get, headers: team) { response in
                #expect(response.status == .ok)
                let body = try DeliveryAPITests.json(response.body)
                #expect((body["limit_deg"] as? Double) == 0.05)
                let estimates = try #require(body["estimates"] as? [[String: Any]])
                #expect(estimates.count >= 2 && estimates.count <= 3)
                #expect(estimates.contains { ($0["shape_model_ids"] as? [String]) == [] })
                let latest = try #require(estimates.last { ($0["shape_model_ids"] as? [String]) == ["hrsc-like-fine", "mola-like-coarse"] })
                let offset = try #require(latest["offset_deg"] as? Double)
                #expect(abs(offset - truth) <= 0.01)
                #expect((latest["beyond_limit"] as? Bool) == true)
                let (fringingBefore, fringingAfter) = (latest["fringing_before_px"] as? Double ?? 0, latest["fringing_after_px"] as? Double ?? 9)
                #expect(fringingAfter < fringingBefore && fringingAfter <= 0.25, "fringing \(fringingBefore) → \(fringingAfter)")
            }
            try await client.execute(uri: "/v1/mechanism?sclk_from=5", method: .get, headers: team) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/v1/anomalies?observation=5500", method: .get, headers: team) { response in
                let anomalies = try #require(try DeliveryAPITests.json(response.body)["anomalies"] as? [[String: Any]])
                let mechanism = anomalies.filter { ($0["kind"] as? String) == "mechanism_offset" }
                #expect(!mechanism.isEmpty, "an offset beyond the limit is an anomaly")
                #expect((mechanism.first?["evidence"] as? [String: String])?["limit_deg"] == "0.05")
                #expect(!anomalies.contains { ($0["kind"] as? String) == "straylight" }, "3.8 % removed is below the 5 % that makes an anomaly")
            }
        }
    }
}
