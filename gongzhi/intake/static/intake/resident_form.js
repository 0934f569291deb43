// The residents' form: grid choices for the chosen village, the phone's location, one submission per tap.
(function(){var d=document,v=d.getElementById('id_village'),g=d.getElementById('id_grid'),box=d.getElementById('grid-box'),pick=d.getElementById('grid-pick'),f=d.getElementById('report');
function load(keep){var want=keep?g.value:'';if(!keep)g.value='';pick.innerHTML='';box.hidden=true;if(!v.value)return;
fetch(f.dataset.gridsUrl.replace('/0/','/'+v.value+'/')).then(function(r){return r.json()}).then(function(j){if(!j.grids||!j.grids.length)return;pick.add(new Option('不清楚',''));j.grids.forEach(function(x){var o=new Option(x.name,x.id);if(String(x.id)===want)o.selected=true;pick.add(o)});box.hidden=false}).catch(function(){})}
if(window.fetch&&v){v.addEventListener('change',function(){load(false)});pick.addEventListener('change',function(){g.value=pick.value});if(v.value)load(true)}
var gps=d.getElementById('gps'),m=d.getElementById('gps-msg'),la=d.getElementById('id_latitude'),lo=d.getElementById('id_longitude');
if(navigator.geolocation&&gps){gps.hidden=false;if(la.value)m.textContent='已记下位置。';d.getElementById('gps-btn').addEventListener('click',function(){m.textContent='正在定位……';navigator.geolocation.getCurrentPosition(function(p){la.value=p.coords.latitude.toFixed(6);lo.value=p.coords.longitude.toFixed(6);m.textContent='已记下您现在的位置。'},function(){m.textContent='没有定位成功，不定位也可以提交。'},{enableHighAccuracy:true,timeout:15000,maximumAge:60000})})}
var sent=false;f.addEventListener('submit',function(e){if(sent){e.preventDefault();return}sent=true;var b=d.getElementById('submit');b.textContent='正在提交，请稍等……';setTimeout(function(){sent=false;b.textContent='提交'},15000)});
})();
