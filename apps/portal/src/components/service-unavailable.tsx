// What a page shows, with status 503, when the service cannot reach its database in time.
export function ServiceUnavailable() {
  return (
    <div className="stack" role="alert" data-testid="service-unavailable">
      <h1>Temporarily unavailable</h1>
      <p>The service is temporarily unavailable. Please try again shortly.</p>
      <p>Nothing was changed. Reload this page in a moment.</p>
    </div>
  );
}
