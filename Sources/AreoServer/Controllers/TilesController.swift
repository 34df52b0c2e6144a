import AreoDelivery
import AreoGeometry
import AreoProcessing
import AreoProducts
import AreoQuery
import AreoTelemetry
import Foundation
import HTTPTypes
import Hummingbird

/// Map tiles rendered from raw packets and the documents that describe them: the tile matrix
/// sets (OGC TMS 2.0 JSON), TileJSON for web viewers, and OGC WMTS 1.0 capabilities (RESTful
/// and KVP) for QGIS, owslib and other GIS clients.
struct TilesController: Sendable {
    let delivery: ProductDelivery
    /// Cold tile renders per client: a viewport is a dozen small renders, so tiles have a
    /// larger allowance of their own than whole products.
    let tileLimits: ClientLimits

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
            try ProductResponses.json(encodable: try Self.tileMatrixSet(context.parameters.get("tms") ?? "").document)
        }
        group.get("/tiles/{tms}/tilejson.json") { request, context in
            let set = try Self.tileMatrixSet(context.parameters.get("tms") ?? "")
            let layer = try Self.layer(request.query["product"])
            let format = try Self.format(request.query["format"] ?? "png")
            return try ProductResponses.json(encodable: TileJSON(set: set, layer: layer, format: format, base: Self.base(request)))
        }
        group.get("/tiles/{tms}/{z}/{x}/{file}") { request, context in
            let p = context.parameters
            let file = p.get("file") ?? ""
            let parts = file.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ParameterError("y", "a row and an extension: {y}.png or {y}.jpg", value: String(file.prefix(40))) }
            let tile = try Self.tile(set: p.get("tms") ?? "", zoom: p.get("z") ?? "", column: p.get("x") ?? "", row: parts[0])
            return try await self.tile(tile, formatText: parts[1], request: request, context: context)
        }
        // WMTS: the RESTful capabilities document, and the KVP binding of both operations.
        group.get("/wmts/1.0.0/WMTSCapabilities.xml") { request, _ in
            Self.xml(WMTSCapabilities.document(base: Self.base(request)))
        }
        group.get("/wmts") { request, context in
            var q: [String: String] = [:]
            for (name, value) in request.query.all { q[name.lowercased()] = value }
            guard q["service"]?.uppercased() ?? "WMTS" == "WMTS" else { throw ParameterError("SERVICE", "WMTS", value: q["service"]) }
            switch q["request"]?.lowercased() {
            case "getcapabilities":
                return Self.xml(WMTSCapabilities.document(base: Self.base(request)))
            case "gettile":
                let tile = try Self.tile(set: q["tilematrixset"] ?? "", zoom: q["tilematrix"] ?? "", column: q["tilecol"] ?? "", row: q["tilerow"] ?? "")
                let format: String = switch q["format"] ?? "image/png" {
                case "image/jpeg", "jpg": "jpg"
                case "image/png", "png": "png"
                case let other: throw ParameterError("FORMAT", "image/png or image/jpeg", value: other)
                }
                return try await self.tile(tile, formatText: format, layerText: q["layer"], request: request, context: context)
            default:
                throw ParameterError("REQUEST", "GetCapabilities or GetTile", value: q["request"])
            }
        }
    }

    /// Serves one tile of the layer in `product` (or `layerText`).
    func tile(_ tile: TileMatrixSet.Tile, formatText: String, layerText: String? = nil, request: Request, context: AreoRequestContext) async throws -> Response {
        let format = try Self.format(formatText)
        let bands = try Self.layer(layerText ?? request.query["product"])
        var stretch = TileImage.Stretch.standard
        if let text = request.query["stretch"] {
            let values = text.split(separator: ",").compactMap { Double($0) }
            guard values.count == 2, let given = TileImage.Stretch(low: values[0], high: values[1]) else {
                throw ParameterError("stretch", "low,high I/F with low < high, within −1…10", value: text)
            }
            stretch = given
        }
        let tileRequest: TileRequest
        do { tileRequest = try TileRequest(tile: tile, bands: bands, format: format, stretch: stretch) } catch {
            throw ProblemDocument(.badRequest, error.description, code: "invalid_parameter")
        }
        let (delivery, publicOnly) = (self.delivery, context.publicOnly)
        let served = try await tileLimits.withRenderSlot(context.clientKey, product: tileRequest.fileName) {
            try await ProductResponses.whileConnected(context) { try await delivery.tile(tileRequest, publicOnly: publicOnly) }
        }
        return try await ProductResponses.response(served, request: request, context: context, publicProduct: publicOnly)
    }

    // MARK: Parameters

    static func tileMatrixSet(_ name: String) throws -> TileMatrixSet {
        guard let set = TileMatrixSet.named(name) else {
            throw ProblemDocument(.notFound, "tile matrix sets are \(TileMatrixSet.all.map(\.id).joined(separator: ", ")), not '\(name.prefix(80))'",
                                  code: "not_found")
        }
        return set
    }

    /// The tile named by path or KVP parts, checked against the set (404 outside it).
    static func tile(set name: String, zoom: String, column: String, row: String) throws -> TileMatrixSet.Tile {
        let set = try tileMatrixSet(name)
        func integer(_ text: String, _ parameter: String) throws -> Int {
            guard text.count <= 10, let value = Int(text), value >= 0 else {
                throw ParameterError(parameter, "a non-negative integer", value: String(text.prefix(40)))
            }
            return value
        }
        let (z, x, y) = (try integer(zoom, "z"), try integer(column, "x"), try integer(row, "y"))
        guard let tile = set.tile(zoom: z, column: x, row: y) else {
            throw ProblemDocument(.notFound, "\(set.id) has zooms 0…\(set.maximumZoom); tile \(z)/\(x)/\(y) is not one of its tiles", code: "not_found")
        }
        return tile
    }

    /// A layer: a band (`PAN`) or a composite's bands (`NIR,PAN,BLU` or `NIR-PAN-BLU`); PAN by default.
    static func layer(_ text: String?) throws -> [Band] {
        let text = text ?? "PAN"
        let names = text.split(whereSeparator: { $0 == "," || $0 == "-" }).map(String.init)
        let bands = names.compactMap { Band(name: $0) }
        guard !bands.isEmpty, bands.count == names.count, bands.count == 1 || ProductRequest.composites.contains(bands) else {
            throw ParameterError("product", "a band (\(Band.allCases.map(\.name).joined(separator: ", "))) or a composite (\(WMTSCapabilities.layers.filter { $0.count > 1 }.map { $0.map(\.name).joined(separator: ",") }.joined(separator: " | ")))", value: String(text.prefix(40)))
        }
        return bands
    }

    static func format(_ text: String) throws -> ProductFormat {
        guard let format = ProductFormat(rawValue: text), format != .dat else { throw ParameterError("format", "png or jpg", value: String(text.prefix(20))) }
        return format
    }

    /// `http://host:port` as the client addressed the server (for absolute URLs in documents).
    static func base(_ request: Request) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        let safe = host.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == ":" || $0 == "-" || $0 == "[" || $0 == "]" } && host.count <= 255
        return "http://" + (safe ? host : "127.0.0.1")
    }

    static func xml(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// TileJSON 3.0.0 for one layer of one set (web viewers: Leaflet, MapLibre, OpenLayers).
struct TileJSON: Encodable, Sendable {
    var tilejson = "3.0.0"
    var name: String
    var description: String
    var scheme = "xyz"
    var tiles: [String]
    var minzoom = 0
    var maxzoom: Int
    var bounds: [Double]
    var crs: String
    var tileMatrixSet: String

    init(set: TileMatrixSet, layer: [Band], format: ProductFormat, base: String) {
        let product = layer.map(\.name).joined(separator: ",")
        name = "Areo \(layer.map(\.name).joined(separator: "-")) (\(set.id))"
        description = "Mars \(layer.count == 1 ? "I/F of \(product)" : "colour \(product)") drawn on demand from the raw packets with the newest geometry and calibration"
        tiles = ["\(base)/v1/tiles/\(set.id)/{z}/{x}/{y}.\(format.rawValue)?product=\(product)"]
        maxzoom = set.maximumZoom
        switch set.projection {
        case .equirectangular: bounds = [-180, -90, 180, 90]
        case .polarStereographic(let north, _):
            bounds = north ? [-180, MapProjection.polarLatitude, 180, 90] : [-180, -90, 180, -MapProjection.polarLatitude]
        }
        crs = set.crs
        tileMatrixSet = "\(base)/v1/tiles/\(set.id)"
    }
}
