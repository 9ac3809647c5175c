import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import ParleyCore

/// The web inbox's sign-in: the session token travels in an HttpOnly cookie that scripts cannot
/// read, and every state-changing request made with it must also carry a CSRF token derived
/// from it. Another site can make the browser send the cookie but cannot read it, so it cannot
/// compute the header.
enum SessionCookie {
    static let name = "parley_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    static func csrfToken(for sessionToken: String) -> String {
        let digest = SHA256.hash(data: Data("parley-csrf:\(sessionToken)".utf8))
        return digest.prefix(20).hexEncoded
    }

    static func make(token: String, lifetime: TimeInterval, secure: Bool) -> Cookie {
        Cookie(name: name, value: token, maxAge: Int(lifetime), path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    static func cleared(secure: Bool) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// Methods that change state and so need the CSRF header.
    static func needsCSRF(_ method: HTTPRequest.Method) -> Bool {
        ![.get, .head, .options].contains(method)
    }
}
