import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a system program to completion, its output going to a file (never to a pipe: a server
/// started by `pg_ctl` inherits its descriptors and would keep a pipe open forever).
struct SystemCommand {
    let executable: URL
    let arguments: [String]
    /// Run as this user through `runuser` (PostgreSQL refuses to run as root).
    let runAsUser: String?

    struct Result {
        let status: Int32
        let output: String
    }

    /// Spawns the program with `posix_spawn` (stdin from /dev/null, stdout and stderr appended to
    /// `outputFile`) and waits for it. Foundation's `Process` is avoided on purpose: its wait
    /// never returns after `pg_ctl start`, whose server keeps inherited descriptors open.
    func run(outputFile: URL) throws(StoreError) -> Result {
        var argv: [String]
        let program: String
        if let user = runAsUser {
            program = SystemCommand.runuserPath
            // `env -C /`: the server user may not be allowed into the caller's working directory.
            argv = [program, "-u", user, "--", "/usr/bin/env", "-C", "/", executable.path] + arguments
        } else {
            program = executable.path
            argv = [program] + arguments
        }
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, &cArgs, environ)
        guard spawned == 0 else {
            throw StoreError(.clusterCommandFailed, "cannot run \(program): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        return Result(status: exitCode, output: output)
    }

    static var runuserPath: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/sbin/runuser"
    }

    static var isRoot: Bool { geteuid() == 0 }
}

/// Asks the kernel for a free TCP port on the loopback interface.
func freeLoopbackPort() -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return nil }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { return nil }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// An exclusive advisory lock on a file, held until `release()`.
final class FileLock {
    private let fd: Int32

    init(path: String) throws(StoreError) {
        fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw StoreError(.clusterCommandFailed, "cannot open lock file \(path)") }
        guard flock(fd, LOCK_EX) == 0 else {
            close(fd)
            throw StoreError(.clusterCommandFailed, "cannot lock \(path)")
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
