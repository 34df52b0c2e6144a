import Foundation
import AreoTelemetry

/// What a product is (issue: products identified by observation, kind, band or composite, scale
/// and format — and by the inputs they were made with, see ``ProductProvenance``).
public struct ProductRequest: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Decoded DN, framelets of one band stacked in exposure order (not projected).
        case raw
        /// I/F, framelets stacked (not projected).
        case calibrated
        /// I/F of one band, map-projected and mosaicked.
        case projected
        /// Three projected bands as colour.
        case composite
    }

    public var observationID: Int
    public var kind: Kind
    /// One band, or the composite's bands (red, green, blue; two for PAN-BLU).
    public var bands: [Band]
    /// Metres per pixel (projected and composite only).
    public var scale: Double
    public var format: ProductFormat

    /// The composites Areo makes (red, green, blue); PAN-BLU gets a synthetic middle channel.
    public static let composites: [[Band]] = [[.nir, .pan, .blu], [.nir, .red, .blu], [.nir, .red, .pan], [.red, .pan, .blu], [.pan, .blu]]

    /// Default map scale, metres per pixel.
    public static let defaultScale = 4.0

    public init(observationID: Int, kind: Kind, bands: [Band], scale: Double = defaultScale, format: ProductFormat) throws(ProcessingError) {
        switch kind {
        case .raw, .calibrated, .projected:
            guard bands.count == 1 else { throw ProcessingError(.invalidRequest, "a \(kind.rawValue) product has one band (--band)") }
        case .composite:
            guard Self.composites.contains(bands) else {
                throw ProcessingError(.invalidRequest, "composites are \(Self.composites.map { $0.map(\.name).joined(separator: ",") }.joined(separator: " | "))")
            }
        }
        guard scale.isFinite, scale > 0 else { throw ProcessingError(.invalidRequest, "scale must be a positive number of metres per pixel") }
        self.observationID = observationID
        self.kind = kind
        self.bands = bands
        self.scale = kind == .raw || kind == .calibrated ? 0 : scale
        self.format = format
    }

    /// A stable name: `5300-projected-PAN-4m.png`.
    public var fileName: String {
        let scalePart = kind == .raw || kind == .calibrated ? "" : "-\(Self.format(scale))m"
        return "\(observationID)-\(kind.rawValue)-\(bands.map(\.name).joined(separator: "_"))\(scalePart).\(format.rawValue)"
    }

    /// A scale as written in names: "4", "0.5".
    public static func format(_ scale: Double) -> String {
        scale == scale.rounded() ? String(Int(scale)) : String(scale)
    }
}

/// The inputs a product was made with: with the request, its full identity.
public struct ProductProvenance: Sendable, Hashable, Codable {
    public var kernelID: String
    public var calibrationID: String
    public var softwareVersion: String
    /// The shape models the observation's rays met (ICD §11; empty: the ellipsoid).
    public var shapeModels: [String]
    /// The mechanism offset and straylight factor applied (nil: not yet resolved).
    public var corrections: ObservationCorrections?

    public init(
        kernelID: String, calibrationID: String, shapeModels: [String] = [], corrections: ObservationCorrections? = nil,
        softwareVersion: String = areoVersion
    ) {
        self.kernelID = kernelID
        self.calibrationID = calibrationID
        self.shapeModels = shapeModels
        self.corrections = corrections
        self.softwareVersion = softwareVersion
    }

    /// The provenance as attributes and headers carry it: shape models comma-separated ("" none),
    /// the offset in degrees and ε ("none" when nothing was exposed).
    public var shapeModelList: String { shapeModels.joined(separator: ",") }
    public var mechanismOffsetText: String? { corrections.map { String(format: "%.5f", $0.mechanismOffsetDegrees) } }
    public var straylightEpsilonText: String? { corrections.map { $0.straylightEpsilon.map { String(format: "%.4f", $0) } ?? "none" } }
}

/// Areo's processing software version (part of every product's identity).
public let areoVersion = "0.6.0"
