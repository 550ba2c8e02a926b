"""Every chart quotaflow draws, in one place: ``style`` (what they all share: palette, money axes, titles, PNG
rendering, the report's `Chart`), ``pay_plans`` and ``allocation`` (the one-page report's charts, each titled with
the finding it shows), ``files`` (the PNGs written beside a comparison, a frontier and a back-test, and shown in the
notebooks)."""
