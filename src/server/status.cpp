// Placeholder: implemented by the issue-20 work in progress (see status.h).
