import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A pool of dedicated OS threads for CPU-heavy and blocking work — decoding, calibration,
/// resampling, PNG deflate, hashing, fsync — so it never runs on the threads of Swift's
/// cooperative pool that serve HTTP requests and database replies.
///
/// Three ways in, one pool:
/// - as a `TaskExecutor`: `withTaskExecutorPreference(ComputeThreads.shared) { … }` runs a task
///   and every child task it starts on these threads (the render scheduler's workers do);
/// - ``run(_:)`` runs one blocking closure here and resumes the caller with its result;
/// - ``perform(iterations:_:)`` splits a loop over the pool *and the calling thread*: the caller
///   takes iterations itself until none are left, so a call made from a pool thread (a render
///   running here) never waits for a thread that is busy with it — no deadlock whatever the size.
///
/// ``shared`` has one thread fewer than the machine has cores (at least one), so a core always
/// remains for the request path, and its threads run at a lower priority (``niceness``), so
/// even on that core a request thread is scheduled first.
public final class ComputeThreads: TaskExecutor, @unchecked Sendable {
    /// The process's pool: `AREO_COMPUTE_THREADS` threads when set, else cores − 1 (at least 1)
    /// at a lower priority — or, in a process that serves no requests (``useEveryCore()``), one
    /// thread per core at normal priority.
    public static let shared = ComputeThreads(
        threads: defaultThreadCount(), name: "areo-compute", niceness: servesNoRequests.load(ordering: .acquiring) ? 0 : niceness)

    private static let servesNoRequests = Atomic<Bool>(false)

    /// Declares that this process serves no requests (a command-line product, export or bench):
    /// ``shared`` then keeps no core free for a request path and runs one thread per core at
    /// normal priority. Call before the first use of ``shared``; the server never calls it.
    public static func useEveryCore() {
        servesNoRequests.store(true, ordering: .releasing)
    }

    /// A thread for short blocking file work (the cache's writes, fsyncs, checksums and index),
    /// apart from ``shared`` so it never queues behind a render's CPU work, at normal priority.
    public static let io = ComputeThreads(threads: 1, name: "areo-io", niceness: 0)

    /// The default size: one below the core count, at least one (every core after ``useEveryCore()``).
    public static func defaultThreadCount(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let value = environment["AREO_COMPUTE_THREADS"], let n = Int(value), (1...256).contains(n) { return n }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return servesNoRequests.load(ordering: .acquiring) ? max(1, cores) : max(1, cores - 1)
    }

    /// How many threads the pool runs.
    public let threadCount: Int

    private enum Work {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    private let condition = NSCondition()
    private var queue: [Work] = []
    private var head = 0
    /// Set on the pool's threads (so callers can tell where they run).
    private static let onPoolThread = ThreadSpecificFlag()

    /// The nice value its threads run at.
    public let threadNiceness: Int32

    /// Starts `threads` threads named `name-N` at `niceness`; they live as long as the process.
    public init(threads: Int, name: String, niceness: Int32 = ComputeThreads.niceness) {
        threadCount = max(1, threads)
        threadNiceness = niceness
        for index in 0..<threadCount {
            let thread = Thread { [unowned self] in
                Self.onPoolThread.set()
                Self.lowerPriority(to: niceness)
                self.serve()
            }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The nice value of the pool's threads: the scheduler gives request threads (nice 0) about
    /// nine times their share when both want a core, so a render yields to requests at once.
    public static let niceness: Int32 = 10

    /// Lowers the calling thread's scheduling priority (Linux: nice applies per thread).
    private static func lowerPriority(to niceness: Int32) {
        #if os(Linux)
        guard niceness > 0 else { return }
        // On Linux PRIO_PROCESS with who = 0 names the calling thread only (setpriority(2), NOTES).
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
    }

    /// The calling thread's nice value (Linux), for tests and diagnostics.
    public static func currentNiceness() -> Int32 {
        #if os(Linux)
        errno = 0
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #else
        return 0
        #endif
    }

    /// Whether the calling thread is one of a compute pool's threads.
    public static var isOnPoolThread: Bool { onPoolThread.isSet }

    // MARK: TaskExecutor

    public func enqueue(_ job: consuming ExecutorJob) {
        push(.job(UnownedJob(job)))
    }

    // MARK: Blocking work

    /// Runs `body` on one of the pool's threads and returns its result to the awaiting task.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            push(.closure { continuation.resume(with: Result { try body() }) })
        }
    }

    /// Runs `body` on one of the pool's threads without waiting for it.
    public func submit(_ body: @escaping @Sendable () -> Void) {
        push(.closure(body))
    }

    /// Runs `body(i)` for every `i` in `0..<iterations`, spread over the pool's threads and the
    /// calling thread (which works too, and returns when every iteration has finished).
    public func perform(iterations: Int, _ body: @Sendable (Int) -> Void) {
        guard iterations > 1 else {
            if iterations == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let loop = SharedLoop(iterations: iterations, body: body)
            // Helpers: as many as could usefully join (the pool may be busy; then the caller does it all).
            for _ in 0..<min(threadCount, iterations - 1) { push(.closure { loop.work() }) }
            loop.work()
            loop.waitUntilFinished()
            // Helpers still queued will claim nothing; drop `body` so it does not outlive this call.
            loop.release()
        }
    }

    // MARK: The threads

    private func push(_ work: Work) {
        condition.lock()
        queue.append(work)
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while head == queue.count { condition.wait() }
            let work = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            switch work {
            case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
            case .closure(let closure): closure()
            }
        }
    }
}

/// One ``ComputeThreads/perform(iterations:_:)`` loop: iterations claimed one at a time by
/// whichever thread asks next; the caller waits only for iterations already claimed.
private final class SharedLoop: @unchecked Sendable {
    let iterations: Int
    /// Read only by a thread that claimed an iteration below `iterations`; cleared after all finished.
    private var body: ((Int) -> Void)?
    private let next = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let done = NSCondition()

    init(iterations: Int, body: @escaping (Int) -> Void) {
        self.iterations = iterations
        self.body = body
    }

    /// Claims and runs iterations until none are left. A helper that starts after the loop
    /// ended claims nothing and returns at once (so `body` is never called after `perform`
    /// returned).
    func work() {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard i < iterations else { return }
            body!(i)
            if finished.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == iterations {
                done.lock()
                done.broadcast()
                done.unlock()
            }
        }
    }

    func release() { body = nil }

    func waitUntilFinished() {
        done.lock()
        while finished.load(ordering: .acquiring) < iterations { done.wait() }
        done.unlock()
    }
}

/// A per-thread flag (pthread key), set once by each pool thread.
private final class ThreadSpecificFlag: @unchecked Sendable {
    private var key = pthread_key_t()
    init() { pthread_key_create(&key, nil) }
    func set() { pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1)) }
    var isSet: Bool { pthread_getspecific(key) != nil }
}
