$TTL 3600
@	IN SOA ns.example.com. hostmaster.example.com. ( 1 3600 600 86400 3600 )
	IN NS ns.example.com.
ns	IN A 192.0.2.53
ns	IN AAAA 2001:db8::53
www	IN A 192.0.2.80
