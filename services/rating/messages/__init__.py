"""Messages to applicants: how a rating link reaches its applicant, and their inbox of them."""
