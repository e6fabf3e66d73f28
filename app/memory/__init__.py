"""Long-term memory: notes agents keep for their user, and the page to manage them."""
