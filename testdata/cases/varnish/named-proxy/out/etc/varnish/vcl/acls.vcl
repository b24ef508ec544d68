// acls shared by every VCL
acl banners { "192.0.2.0"/24; "198.51.100.0"/24; "2001:db8::"/64; "2001:db8:1::"/64; } # one line
acl local {
	"127.0.0.1"; # loopback
	"::1";
	! "192.0.2.66";
}
