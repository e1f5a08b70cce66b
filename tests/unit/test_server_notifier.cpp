// Tests of src/server (notifier): written with its implementation.
