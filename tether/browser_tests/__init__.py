"""End-to-end journeys in headless Chromium, with axe-core on every page."""
