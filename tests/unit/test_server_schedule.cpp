// Tests of src/server (schedule): written with its implementation.
