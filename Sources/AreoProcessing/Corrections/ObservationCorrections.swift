/// What Areo estimates from an observation's own data and applies to its products: the rotation
/// mechanism's offset (ICD §8, added to every commanded angle) and the straylight amplitude's
/// factor ε (ICD §9, the amplitude removed is `A(α)·(1 + ε)`).
public struct ObservationCorrections: Sendable, Codable, Equatable, Hashable {
    public var mechanismOffsetDegrees: Double
    /// nil when no framelet is exposed to straylight (nothing is removed but the nominal `A(α)`, which is then 0).
    public var straylightEpsilon: Double?

    public init(mechanismOffsetDegrees: Double, straylightEpsilon: Double? = nil) {
        (self.mechanismOffsetDegrees, self.straylightEpsilon) = (mechanismOffsetDegrees, straylightEpsilon)
    }

    /// Nothing estimated: the commanded angle, the nominal straylight amplitude.
    public static let none = ObservationCorrections(mechanismOffsetDegrees: 0)
}

/// The estimate of the mechanism's offset with its evidence.
public struct MechanismEstimate: Sendable, Codable, Equatable {
    /// The offset that minimises the misregistration, degrees (0 when it could not be estimated).
    public var offsetDegrees: Double
    /// One standard deviation, degrees; nil when not estimated.
    public var uncertaintyDegrees: Double?
    /// RMS misregistration (pixels of the estimation grid) with the commanded angle and with the offset.
    public var fringingBefore: Double?
    public var fringingAfter: Double?
    /// What was measured: band pairs ("RED/PAN") or framelet pairs ("PAN 3/4").
    public var measured: [String]
    /// The coarse search: (offset in degrees, summed squared misregistration in pixels²).
    public var search: [[Double]]
    /// The estimation grid's scale, metres per pixel.
    public var scale: Double
    /// Why there is no estimate (nil when there is one).
    public var reason: String?
}

/// The estimate of the straylight amplitude factor ε with its evidence.
public struct StraylightEstimate: Sendable, Codable, Equatable {
    public var epsilon: Double?
    public var uncertainty: Double?
    /// Framelets whose geometry puts α where the amplitude table is above 0.
    public var exposedFramelets: Int
    /// Median amplitude removed over the exposed framelets, `A(α)·(1 + ε)`, DN/s at unit pattern.
    public var amplitude: Double
    /// Mean straylight removed over the exposed framelets' samples, as a fraction of their mean I/F.
    public var removedFraction: Double
    /// Ground points compared between overlapping framelets (after outliers were rejected).
    public var points: Int
    public var reason: String?
}

/// Both estimates, and the corrections they give.
public struct CorrectionEstimate: Sendable, Codable, Equatable {
    public var corrections: ObservationCorrections
    public var mechanism: MechanismEstimate
    public var straylight: StraylightEstimate
}
