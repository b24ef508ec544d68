// The office networks, shared by several acls.
"127.0.0.1";
"192.0.2.0"/24;
