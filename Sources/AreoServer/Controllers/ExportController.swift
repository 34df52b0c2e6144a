import AreoDelivery
import AreoExport
import AreoArchive
import AreoTelemetry
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

/// PDS4 deliveries over HTTP (archivist only): an export runs as a job of the scheduler, with
/// progress at `/v1/jobs/{id}`; `/v1/exports` lists the deliveries made.
struct ExportController: Sendable {
    let database: Database
    let delivery: ProductDelivery
    let exportDirectory: URL

    struct Request: Decodable {
        var observations: [Int]?
        /// "last", or an ISO 8601 UTC time.
        var since: String?
        var force: Bool?
        var scale: Double?
        /// A team-internal delivery with embargoed observations (see BundleExporter.Options).
        var includeEmbargoed: Bool?

        enum CodingKeys: String, CodingKey {
            case observations, since, force, scale
            case includeEmbargoed = "include_embargoed"
        }
    }

    struct Delivery: Encodable {
        let id: Int
        let createdAt: Date
        let directory: String
        let incremental: Bool
        let products: Int
    }

    func addRoutes(to group: RouterGroup<AreoRequestContext>) {
        group.post("/exports") { request, context in
            try context.require(.archivist)
            let body = try await request.body.collect(upTo: 1 << 20)
            let asked: Request
            do { asked = try JSONDecoder().decode(Request.self, from: Data(body.readableBytesView)) } catch {
                throw ProblemDocument(.badRequest, "an export is {observations?: [id…], since?: \"last\" | ISO 8601, force?: bool, scale?: metres}: \(error)")
            }
            let directory = exportDirectory.appendingPathComponent("delivery-\(Int(Date().timeIntervalSince1970))-\(UUID().uuidString.prefix(6))")
            var options = BundleExporter.Options(directory: directory)
            options.observations = asked.observations
            options.force = asked.force ?? false
            options.includeEmbargoed = asked.includeEmbargoed ?? false
            if let ids = asked.observations {
                guard ids.count <= 10_000, ids.allSatisfy({ (0...Int(UInt32.max)).contains($0) }) else {
                    throw ProblemDocument(.badRequest, "observations are at most 10000 ids in 0…4294967295")
                }
            }
            if let scale = asked.scale {
                guard scale.isFinite, (0.5...100_000).contains(scale) else { throw ProblemDocument(.badRequest, "scale is metres per pixel, 0.5 to 100000") }
                options.scale = scale
            }
            if let since = asked.since {
                do { try options.since(since) } catch { throw ProblemDocument(.badRequest, "\(error)") }
            }
            let (database, logger, chosen) = (self.database, context.logger, options)
            let job = delivery.scheduler.submit(
                key: "export:\(directory.lastPathComponent)", product: "PDS4 delivery \(directory.lastPathComponent)", priority: .hinted,
                owner: "export"
            ) { progress in
                _ = try await BundleExporter(database: database, logger: logger).export(chosen) { done, total in
                    progress.update(done: done, total: total)
                }
                return RenderResult(products: [:], rendered: true)
            }
            return try ProductResponses.json(encodable: job, status: .accepted, headers: [.location: "/v1/jobs/\(job.id)"])
        }
        group.get("/exports") { _, context in
            try context.require(.archivist)
            let deliveries = try await ExportRecords(database: database, logger: context.logger).deliveries().map {
                Delivery(id: $0.id, createdAt: $0.createdAt, directory: $0.directory, incremental: $0.incremental, products: $0.products)
            }
            return try ProductResponses.json(encodable: ["deliveries": deliveries])
        }
    }
}
