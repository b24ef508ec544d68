// acls shared by every VCL
acl banners { "192.0.2.0"/24; "198.51.100.0"/24; } # one line
acl local {
	"127.0.0.1"; # loopback
	! "192.0.2.66";
}
