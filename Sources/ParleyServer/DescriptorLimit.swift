#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open descriptors, and how many client connections fit inside it.
///
/// Every connection holds a descriptor, and running out is worse than refusing a client: on
/// Linux the Swift runtime's thread pool checks its workers once a second while work is queued by
/// opening `/proc/<tid>/stat`, and a failed open stops the process ("registered worker exited
/// prematurely"). So the server stops accepting below the limit (clients wait in the listen
/// backlog until a connection closes) and leaves the rest for the database, outbound calls,
/// files and that check.
public enum DescriptorLimit {
    /// The soft limit in force (what `open` and `accept` are held to).
    public static func current() -> Int {
        var limit = rlimit()
        guard getrlimit(resourceKind, &limit) == 0 else { return fallback }
        return clamp(limit.rlim_cur)
    }

    /// Raises the soft limit to the hard one (a server is often started with a soft limit of
    /// 1,024 under a much higher hard one) and returns the limit now in force.
    @discardableResult
    public static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(resourceKind, &limit) == 0 else { return fallback }
        // Linux refuses an unlimited soft limit for descriptors; its usual ceiling is 2^20.
        let wanted = limit.rlim_max == unlimited ? rlim_t(1 << 20) : limit.rlim_max
        if wanted > limit.rlim_cur {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(resourceKind, &raised) == 0 { return clamp(wanted) }
        }
        return clamp(limit.rlim_cur)
    }

    /// The client connections to accept under `limit` descriptors: an eighth of the limit (at
    /// least 128) is kept back for everything else, but connections always get half.
    public static func connectionBudget(limit: Int) -> Int {
        let reserve = min(max(128, limit / 8), limit / 2)
        return max(1, limit - reserve)
    }

    private static let fallback = 1024
    /// `RLIM_INFINITY` (all bits set), which Swift does not import.
    private static let unlimited = rlim_t.max

    private static func clamp(_ value: rlim_t) -> Int {
        value == unlimited || value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }

    #if canImport(Glibc)
    private static let resourceKind = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resourceKind = RLIMIT_NOFILE
    #endif
}
