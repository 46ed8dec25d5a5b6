"""The workshop dashboard room: controls, session, figures and page, and the server that serves them."""
