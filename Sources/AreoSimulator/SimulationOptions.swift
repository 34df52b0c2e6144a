/// What to simulate (`areo simulate`).
public struct SimulationOptions: Sendable {
    public var seed: UInt64 = 1
    public var instrument: InstrumentPreset = .tiny
    public var orbits = 2
    public var observations = 3
    public var passes = 3
    /// Write the truth as map-projected I/F per band and observation (default: not for cassis,
    /// whose maps are hundreds of megabytes).
    public var truthMaps: Bool? = nil
    public var faults = Faults()
    /// The CaSSIS corrections' inputs (`--terrain`): relief with a global coarse and a local fine
    /// shape model, a 10° off-nadir attitude, mechanism offsets drifting between observations,
    /// straylight in some geometries with a random ε — each in the truth.
    public var terrain = false
    /// Geometry refinement's inputs (`--reference-map`): a reference map over the first
    /// observation, a second observation overlapping it, and a predicted kernel about a kilometre
    /// off (ICD §12) — each in the truth.
    public var referenceMap = false

    public init() {}

    /// Faults to inject, each a count; every one injected is recorded in the truth.
    public struct Faults: Sendable {
        /// Science packets dropped (never the first or last of a fragment).
        public var dropped = 0
        /// Science packets with one bit flipped in their user data.
        public var bitFlips = 0
        /// Records delivered twice where consecutive passes overlap (per pass boundary).
        public var duplicates = 0
        /// Pairs of adjacent science records swapped.
        public var reorders = 0
        /// Runs of stray bytes between records.
        public var strayBytes = 0
        /// Truncate the last record of the last pass.
        public var truncated = false
        /// Observations with a saturated area.
        public var saturated = 0
        /// Housekeeping samples beyond the yellow / red limits.
        public var housekeepingYellow = 0
        public var housekeepingRed = 0
        /// One observation spans a coarse-clock wrap and carries the ICD §6 anomaly.
        public var clockWrap = false

        public init() {}

        /// A bit of everything (for `--faults all`).
        public static var all: Faults {
            var f = Faults()
            (f.dropped, f.bitFlips, f.duplicates, f.reorders, f.strayBytes, f.truncated) = (3, 2, 5, 1, 1, true)
            (f.saturated, f.housekeepingYellow, f.housekeepingRed, f.clockWrap) = (1, 1, 1, true)
            return f
        }
    }
}
