"""Files: uploads, attachments, downloads, the thread Files panel, expiry."""
