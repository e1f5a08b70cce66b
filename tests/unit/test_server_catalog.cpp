// Tests of src/server (catalog): written with its implementation.
