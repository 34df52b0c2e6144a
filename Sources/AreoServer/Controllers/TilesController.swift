import AreoGeometry
import Foundation
import HTTPTypes
import Hummingbird

/// The tile matrix sets (OGC Two Dimensional Tile Matrix Set 2.0) Areo's tiles are cut in:
/// `GET /v1/tiles` lists them, `GET /v1/tiles/{tms}` is one as an OGC TMS document.
struct TilesController: Sendable {
    /// One set in the list.
    struct Listed: Encodable, Sendable {
        var id: String
        var title: String
        var crs: String
        var href: String
    }

    struct Listing: Encodable, Sendable { var tileMatrixSets: [Listed] }

    func addRoutes(to group: RouterGroup<AreoRequestContext>) {
        group.get("/tiles") { _, _ in
            try ProductResponses.json(encodable: Listing(tileMatrixSets: TileMatrixSet.all.map {
                Listed(id: $0.id, title: $0.title, crs: $0.crs, href: "/v1/tiles/\($0.id)")
            }))
        }
        group.get("/tiles/{tms}") { _, context in
            let name = context.parameters.get("tms") ?? ""
            guard let set = TileMatrixSet.named(name) else {
                throw ProblemDocument(.notFound, "tile matrix sets are \(TileMatrixSet.all.map(\.id).joined(separator: ", ")), not '\(name.prefix(80))'",
                                      code: "not_found")
            }
            return try ProductResponses.json(encodable: set.document)
        }
    }
}
