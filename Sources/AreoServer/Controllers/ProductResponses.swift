import AreoTelemetry
import AreoGeometry
import AreoDelivery
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Turning delivered products into HTTP responses, and noticing clients that have gone.
enum ProductResponses {
    static let fileIO = FileIO()

    /// The product as a response: strong ETag (its checksum), conditional GET, the inputs it
    /// was made with as headers, the bytes streamed from the cache file.
    static func response(_ served: ProductDelivery.Served, request: Request, context: AreoRequestContext, publicProduct: Bool) async throws -> Response {
        let entry = served.entry
        var headers: HTTPFields = [
            .eTag: entry.etag,
            .cacheControl: publicProduct ? "public, max-age=60" : "private, max-age=60",
            .areoCache: served.fromCache ? "hit" : "miss",
            // What a caller may see depends on who it is: shared caches keep the answers apart.
            .vary: "Authorization, Cookie",
        ]
        if let kernel = entry.attributes["kernel"] { headers[.areoGeometryKernel] = kernel }
        if let calibration = entry.attributes["calibration"] { headers[.areoCalibrationSet] = calibration }
        if let digests = entry.attributes["inputs"], !digests.isEmpty { headers[.areoInputsDigest] = digests }
        if let software = entry.attributes["software"] { headers[.areoSoftwareVersion] = software }
        if let models = entry.attributes["shape_models"] { headers[.areoShapeModels] = models.isEmpty ? "none" : models }
        if let offset = entry.attributes["mechanism_offset"] { headers[.areoMechanismOffset] = offset }
        if let epsilon = entry.attributes["straylight_epsilon"] { headers[.areoStraylightEpsilon] = epsilon }
        if let observations = entry.attributes["observations"] { headers[.areoObservations] = observations }
        if let quality = entry.attributes["quality"] { headers[.areoQuality] = quality }
        if let file = entry.attributes["file"] { headers[.contentDisposition] = "inline; filename=\"\(file)\"" }
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == entry.etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = entry.mediaType
        headers[.contentLength] = String(entry.size)
        if let body = served.body {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        if let bytes = served.bytes {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        guard let path = served.path else { throw ProblemDocument(.internalServerError, "the product has no bytes") }
        let body = try await fileIO.loadFile(path: path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Runs `work`, cancelling it when the client hangs up first (its render is withdrawn and
    /// cancelled if nobody else waits for it).
    ///
    /// Hummingbird allows half-closed connections, so a client that hangs up while its request
    /// is being answered shows as an `inputClosed` event, not as a closed channel; a small
    /// handler placed first in the connection's pipeline for the duration watches for either.
    static func whileConnected<T: Sendable>(_ context: AreoRequestContext, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let gone = CancellationSignal()
        let watcher = HangUpWatcher(gone)
        let channel = context.channel
        try? await channel.pipeline.addHandler(watcher, position: .first).get()
        channel.closeFuture.whenComplete { _ in gone.fire() }
        defer { channel.pipeline.removeHandler(watcher, promise: nil) }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask { await gone.wait(); return nil }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                context.logger.info("client hung up; its render is withdrawn")
                throw CancellationError()
            }
            return value
        }
    }


    /// A JSON response from an Encodable value (dates as ISO 8601).
    static func json(encodable value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

extension HTTPField.Name {
    /// The geometry kernel a product was made with.
    static let areoGeometryKernel = Self("Areo-Geometry-Kernel")!
    /// The calibration set a product was made with.
    static let areoCalibrationSet = Self("Areo-Calibration-Set")!
    /// The content digests (SHA-256, 16 hex digits) of the kernel and calibration set, `kernel/calibration`.
    static let areoInputsDigest = Self("Areo-Inputs-Digest")!
    static let areoSoftwareVersion = Self("Areo-Software-Version")!
    /// The shape models the product's rays met (comma-separated; `none`: the ellipsoid).
    static let areoShapeModels = Self("Areo-Shape-Models")!
    /// The rotation mechanism's offset applied, degrees (ICD §8).
    static let areoMechanismOffset = Self("Areo-Mechanism-Offset")!
    /// The straylight factor ε applied (ICD §9; `none` when no framelet was exposed).
    static let areoStraylightEpsilon = Self("Areo-Straylight-Epsilon")!
    /// `hit` or `miss`.
    static let areoCache = Self("Areo-Cache")!
    /// The observations a region mosaic is made of, bottom to top.
    static let areoObservations = Self("Areo-Observations")!
    /// The product's quality measures (JSON).
    static let areoQuality = Self("Areo-Quality")!
    static let contentDisposition = Self("Content-Disposition")!
    static let preferHeader = Self("Prefer")!
}

/// Fires a signal when the client closes its side of the connection or the connection closes.
final class HangUpWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let signal: CancellationSignal

    init(_ signal: CancellationSignal) { self.signal = signal }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { signal.fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        signal.fire()
        context.fireChannelInactive()
    }
}
