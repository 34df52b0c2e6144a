import Foundation

/// Who may see an observation (ICD §10, written once): the public only when a plan commands it
/// and its `embargo_until` is absent or has passed. An observation without a plan is the
/// team's until a plan says otherwise (fail closed: data nobody planned may be anything).
public enum Embargo {
    /// Whether the public may see an observation now.
    /// - Parameters:
    ///   - planned: a plan for it is loaded.
    ///   - embargoUntil: the plan's `embargo_until`, if any.
    public static func isPublic(planned: Bool, embargoUntil: Date?, at now: Date = Date()) -> Bool {
        planned && (embargoUntil.map { $0 <= now } ?? true)
    }
}
