/**
 * The links a notification carries (issue 6: signed, expiring links to acknowledge and to view). The
 * notify stage declares this port; the HTTP stage implements it with signed, expiring URLs and the
 * composition root passes it in. Tests pass a simple real implementation.
 */
export interface NotificationLinks {
  /** absolute URL of the incident's page, e.g. `https://jaga.example/incidents/7` */
  incidentUrl(incidentId: number): string;
  /**
   * absolute URL that performs `action` on the incident when followed (signed, expiring, single use;
   * bound to the notification id so a used link can be told apart), e.g.
   * `https://jaga.example/a/7/ack?n=<notification id>&exp=...&sig=...`
   */
  actionUrl(incidentId: number, action: 'ack' | 'resolve', notificationId: string): string;
}
