import Hummingbird

extension ProviderSimulator {
    func twilio(_ request: Recorded) -> Response {
        Self.json(501, ["error": "not simulated yet"])
    }
}
